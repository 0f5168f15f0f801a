import type { PageDef } from './types'

/** Content pages (media, text-to-speech, bulletins, calendar, live, emergency): owned by console2. */
export const contentPages: PageDef[] = []
