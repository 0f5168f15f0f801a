// Bundles the console (web/src) into dist-web: hashed, minified, code-split ES modules (the map and the charts
// load only on the pages that use them), an index.html naming them, and .br/.gz twins the server sends as is.
import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import * as esbuild from 'esbuild'

const here = path.dirname(fileURLToPath(import.meta.url))
const out = path.resolve(here, '..', 'dist-web')
const assets = path.join(out, 'assets')

rmSync(out, { recursive: true, force: true })
mkdirSync(assets, { recursive: true })

/**
 * `import href from 'x.css?url'`: the stylesheet minified into its own hashed file under /assets/, and its URL,
 * for lazily loaded chunks (Leaflet, uPlot) to link. A file, not text put into a <style> element: the
 * Content-Security-Policy allows stylesheets from 'self' only, no inline styles (docs/security.md).
 */
const cssUrl = {
  name: 'css-url',
  setup(b) {
    b.onResolve({ filter: /\.css\?url$/ }, async (args) => {
      const r = await b.resolve(args.path.replace(/\?url$/, ''), {
        resolveDir: args.resolveDir,
        kind: args.kind,
      })
      return { path: r.path, namespace: 'css-url' }
    })
    b.onLoad({ filter: /.*/, namespace: 'css-url' }, async (args) => {
      const { code } = await esbuild.transform(readFileSync(args.path, 'utf8'), {
        loader: 'css',
        minify: true,
      })
      // Named like esbuild's own assets (name-HASH.ext), so the server marks it immutable.
      const hash = createHash('sha256').update(code).digest('hex').slice(0, 8).toUpperCase()
      const name = `${path.basename(args.path).replace(/(\.min)?\.css$/, '')}-${hash}.css`
      writeFileSync(path.join(assets, name), code)
      return { contents: `export default ${JSON.stringify(`/assets/${name}`)}`, loader: 'js' }
    })
  },
}

const result = await esbuild.build({
  entryPoints: [path.join(here, 'src', 'main.tsx')],
  outdir: assets,
  bundle: true,
  splitting: true,
  format: 'esm',
  minify: true,
  sourcemap: false,
  target: ['es2020'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  entryNames: '[name]-[hash]',
  chunkNames: 'chunk-[hash]',
  assetNames: '[name]-[hash]',
  loader: { '.png': 'file', '.svg': 'file' },
  metafile: true,
  plugins: [cssUrl],
  legalComments: 'none',
  logLevel: 'warning',
})

const outputs = result.metafile.outputs
const entry = Object.keys(outputs).find(
  (f) => outputs[f].entryPoint?.endsWith('main.tsx') && f.endsWith('.js'),
)
if (!entry) throw new Error('build:web: no entry bundle')
const css = outputs[entry].cssBundle
const url = (f) => `/assets/${path.basename(f)}`
// Chunks the entry imports statically are announced up front, so they download in parallel with it.
const preloads = outputs[entry].imports
  .filter((i) => i.kind === 'import-statement')
  .map((i) => `<link rel="modulepreload" href="${url(i.path)}" />`)
  .join('')
const html = readFileSync(path.join(here, 'index.html'), 'utf8')
  .replace('<!--STYLES-->', (css ? `<link rel="stylesheet" href="${url(css)}" />` : '') + preloads)
  .replace('<!--SCRIPTS-->', `<script type="module" src="${url(entry)}"></script>`)
writeFileSync(path.join(out, 'index.html'), html)

// Precompress: the server picks .br or .gz by Accept-Encoding and never compresses at request time.
const sizes = {}
const walk = (dir) =>
  readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n)
    return statSync(p).isDirectory() ? walk(p) : [p]
  })
for (const file of walk(out)) {
  const raw = readFileSync(file)
  const gz = gzipSync(raw, { level: 9 })
  const br = brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } })
  if (raw.length > 1024) {
    writeFileSync(`${file}.gz`, gz)
    writeFileSync(`${file}.br`, br)
  }
  sizes[path.relative(out, file)] = { raw: raw.length, gzip: gz.length, brotli: br.length }
}

// First load = index.html + entry script + its CSS (+ chunks it imports statically).
const first = ['index.html', path.relative(out, path.resolve(entry))]
if (css) first.push(path.relative(out, path.resolve(css)))
for (const imp of outputs[entry].imports)
  if (imp.kind === 'import-statement') first.push(path.relative(out, path.resolve(imp.path)))
const sum = (k) => first.reduce((n, f) => n + (sizes[f]?.[k] ?? 0), 0)
const firstLoad = { files: first, raw: sum('raw'), gzip: sum('gzip'), brotli: sum('brotli') }
writeFileSync(path.join(out, 'sizes.json'), `${JSON.stringify({ firstLoad, files: sizes }, null, 2)}\n`)
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`
console.log(
  `build:web → ${path.relative(process.cwd(), out)}: first load ${kb(firstLoad.gzip)} gzip, ${kb(firstLoad.brotli)} brotli (${kb(firstLoad.raw)} raw)`,
)
