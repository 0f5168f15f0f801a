// Stylesheets are bundled by esbuild into the page's CSS file; importing one has no value.
declare module '*.css'

// `?url`: the URL of the stylesheet as a file of its own (see build.mjs), linked by lazily loaded modules.
declare module '*.css?url' {
  const href: string
  export default href
}
