import { adminPages } from './admin'
import { contentPages } from './content'
import { corePages } from './core'
import type { PageDef } from './types'

export type { PageDef, PageProps } from './types'

/** Every page of the console; the nav shows those with a `nav` label, in `nav.order`. */
export const pages: PageDef[] = [...corePages, ...contentPages, ...adminPages]
