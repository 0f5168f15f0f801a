// Stylesheets are bundled by esbuild into the page's CSS file; importing one has no value.
declare module '*.css'

// `?inline`: the stylesheet's text (see build.mjs), injected by lazily loaded modules.
declare module '*.css?inline' {
  const css: string
  export default css
}
