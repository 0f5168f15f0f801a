import type { App, Services } from './context.js'

export function registerCapRoutes(_app: App, _s: Services): void {}
