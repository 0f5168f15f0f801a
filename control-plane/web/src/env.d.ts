// Stylesheets are bundled by esbuild into the page's CSS file; importing one has no value.
declare module '*.css'
