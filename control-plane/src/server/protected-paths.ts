/**
 * Paths that need credentials (unless a route says `permission: 'public'`): the auth plugin checks them, the
 * security headers keep them out of caches.
 */
export function isProtectedPath(url: string): boolean {
  const path = url.split('?')[0] as string
  return (
    path.startsWith('/api/') || path.startsWith('/media/') || path === '/metrics' || path === '/openapi.json'
  )
}
