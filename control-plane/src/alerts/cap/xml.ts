/**
 * A small, namespace-aware XML reader for CAP documents. It reads the whole input in one linear pass (no recursion,
 * no regular expression that can backtrack over the input) and refuses what CAP never needs: a DOCTYPE (so no
 * entity definitions, no external entities), entity references other than the five predefined ones and character
 * references, elements nested deeper than `maxDepth`, more than `maxElements` elements, `maxAttributes`
 * attributes on one element or `maxReferences` references. Every failure is an `XmlError` with the line and column where it was found.
 */

export interface XmlElement {
  /** Local name (without prefix). */
  name: string
  /** Namespace URI, resolved from the `xmlns` declarations in scope; null: no namespace. */
  ns: string | null
  /** The name as written, e.g. `cap:alert`. */
  qname: string
  /** Attributes other than namespace declarations, by qualified name as written. */
  attrs: Map<string, string>
  children: XmlElement[]
  /** Character data directly inside this element (entity references decoded, CDATA included). */
  text: string
  /** Character data other than whitespace appears between child elements (mixed content). */
  mixed: boolean
  /** Offset of the start tag in the input, for messages. */
  offset: number
}

export interface XmlLimits {
  maxDepth: number
  maxElements: number
  maxAttributes: number
  /** Entity and character references in the whole document (each costs far more to decode than plain text). */
  maxReferences: number
}

export class XmlError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
    /** Well-formed as far as read, but refused: a DOCTYPE, or over a limit. */
    readonly refused = false,
  ) {
    super(`${message} (line ${line}, column ${column})`)
    this.name = 'XmlError'
  }
}

export const XML_NS = 'http://www.w3.org/XML/1998/namespace'
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/'

/** Characters XML 1.0 forbids anywhere (§2.2), as they arrive or as character references. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const FORBIDDEN_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/
const NAME_START =
  'A-Za-z_\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD'
const NAME_CHAR = `${NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040`
/** A qualified name: an NCName, optionally prefixed by another and a colon. Sticky: matched at a position. */
const QNAME = new RegExp(`[${NAME_START}][${NAME_CHAR}]*(?::[${NAME_START}][${NAME_CHAR}]*)?`, 'y')
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }
/** XML's whitespace (§2.3 S): space, tab, CR, LF; not the other Unicode spaces. */
const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r'
const BLANK = /^[ \t\r\n]*$/

function position(src: string, offset: number): { line: number; column: number } {
  let line = 1
  let lineStart = 0
  for (let i = src.indexOf('\n'); i !== -1 && i < offset; i = src.indexOf('\n', i + 1)) {
    line++
    lineStart = i + 1
  }
  return { line, column: offset - lineStart + 1 }
}

/** Reads a document whose root element is returned; throws XmlError for anything not well-formed or over a limit. */
export function readXml(src: string, limits: XmlLimits): XmlElement {
  const fail = (message: string, at: number, refused = false): never => {
    const { line, column } = position(src, at)
    throw new XmlError(message, line, column, refused)
  }
  const over = (message: string, at: number): never => fail(message, at, true)
  const forbidden = FORBIDDEN_CHAR.exec(src)
  if (forbidden) {
    fail(
      `character U+${forbidden[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} is not allowed in XML`,
      forbidden.index,
    )
  }

  let references = 0
  /** Decodes entity and character references in `raw` (which starts at `at` in the input). */
  const decode = (raw: string, at: number): string => {
    let amp = raw.indexOf('&')
    if (amp === -1) return raw
    let out = ''
    let from = 0
    while (amp !== -1) {
      if (++references > limits.maxReferences) {
        over(`more than ${limits.maxReferences} entity or character references`, at + amp)
      }
      const semi = raw.indexOf(';', amp)
      const ref = semi === -1 ? '' : raw.slice(amp + 1, semi)
      let ch: string | undefined
      if (/^#[0-9]{1,7}$/.test(ref) || /^#x[0-9A-Fa-f]{1,6}$/.test(ref)) {
        const cp = ref[1] === 'x' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10)
        const valid =
          cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) && !FORBIDDEN_CHAR.test(String.fromCodePoint(cp))
        if (!valid) fail(`character reference &${ref}; is not an XML character`, at + amp)
        ch = String.fromCodePoint(cp)
      } else {
        ch = PREDEFINED[ref]
      }
      if (ch === undefined) {
        fail(
          semi === -1 || semi - amp > 12
            ? "'&' must start an entity reference such as &amp;"
            : `undefined entity &${ref}; (only &lt; &gt; &amp; &quot; &apos; and character references)`,
          at + amp,
        )
      }
      out += raw.slice(from, amp) + ch
      from = semi + 1
      amp = raw.indexOf('&', from)
    }
    return out + raw.slice(from)
  }

  interface Open {
    el: XmlElement
    /** Character data other than whitespace was seen directly inside. */
    hasText: boolean
    /** Namespace bindings in scope: prefix ('' = default) → URI ('' = none). */
    scope: Map<string, string>
  }
  const rootScope = new Map([['xml', XML_NS]])
  const stack: Open[] = []
  let root: XmlElement | null = null
  let elements = 0
  let i = src.charCodeAt(0) === 0xfeff ? 1 : 0

  const addText = (raw: string, at: number, isCdata: boolean) => {
    const top = stack[stack.length - 1]
    if (!top) {
      if (!BLANK.test(raw)) fail('text is not allowed outside the root element', at)
      return
    }
    if (!isCdata && raw.includes(']]>')) fail("']]>' is not allowed in text", at + raw.indexOf(']]>'))
    const text = isCdata ? raw : decode(raw, at)
    if (!BLANK.test(text)) {
      top.hasText = true
      if (top.el.children.length > 0) top.el.mixed = true
    }
    top.el.text += text
  }

  const resolve = (qname: string, scope: Map<string, string>, at: number, isAttribute: boolean) => {
    const colon = qname.indexOf(':')
    if (colon === -1) {
      const uri = isAttribute ? '' : (scope.get('') ?? '')
      return { prefix: null, local: qname, ns: uri === '' ? null : uri }
    }
    const prefix = qname.slice(0, colon)
    const uri = scope.get(prefix)
    if (uri === undefined) fail(`namespace prefix "${prefix}" is not declared`, at)
    return { prefix, local: qname.slice(colon + 1), ns: uri as string }
  }

  const startTag = (at: number) => {
    QNAME.lastIndex = at + 1
    const m = QNAME.exec(src)
    if (!m) return fail("'<' must start a tag, a comment or a CDATA section", at)
    const qname = m[0]
    let p = at + 1 + qname.length
    const raw = new Map<string, string>()
    for (;;) {
      const ws = p
      while (isSpace(src[p])) p++
      if (src.startsWith('/>', p) || src[p] === '>') break
      if (p >= src.length) fail(`start tag <${qname}> is not closed`, at)
      if (p === ws) fail(`whitespace expected before an attribute in <${qname}>`, p)
      QNAME.lastIndex = p
      const a = QNAME.exec(src)
      if (!a) return fail(`malformed attribute in <${qname}>`, p)
      const name = a[0]
      p += name.length
      while (isSpace(src[p])) p++
      if (src[p] !== '=') fail(`attribute ${name} needs a value`, p)
      p++
      while (isSpace(src[p])) p++
      const quote = src[p]
      if (quote !== '"' && quote !== "'") return fail(`the value of attribute ${name} must be quoted`, p)
      const end = src.indexOf(quote, p + 1)
      if (end === -1) fail(`the value of attribute ${name} is not closed`, p)
      const value = src.slice(p + 1, end)
      if (value.includes('<')) fail(`'<' is not allowed in the value of attribute ${name}`, p)
      if (raw.has(name)) fail(`attribute ${name} appears twice`, p)
      if (raw.size >= limits.maxAttributes)
        over(`more than ${limits.maxAttributes} attributes on one element`, p)
      raw.set(name, decode(value, p + 1).replace(/[\t\n\r]/g, ' '))
      p = end + 1
    }
    const selfClosing = src[p] === '/'
    const parentScope = stack[stack.length - 1]?.scope ?? rootScope
    let scope = parentScope
    const attrs = new Map<string, string>()
    for (const [name, value] of raw) {
      if (name === 'xmlns' || name.startsWith('xmlns:')) {
        const prefix = name === 'xmlns' ? '' : name.slice(6)
        if (prefix !== '' && value === '') fail(`namespace prefix "${prefix}" cannot be undeclared`, at)
        if (prefix === 'xmlns' || value === XMLNS_NS) fail('the xmlns namespace cannot be declared', at)
        if ((prefix === 'xml') !== (value === XML_NS))
          fail('the xml prefix is bound to its own namespace only', at)
        if (scope === parentScope) scope = new Map(parentScope)
        scope.set(prefix, value)
      } else {
        attrs.set(name, value)
      }
    }
    for (const name of attrs.keys()) resolve(name, scope, at, true)
    const { local, ns } = resolve(qname, scope, at, false)
    if (root !== null && stack.length === 0) fail('only one root element is allowed', at)
    if (++elements > limits.maxElements) over(`more than ${limits.maxElements} elements`, at)
    if (stack.length >= limits.maxDepth) over(`elements nested more than ${limits.maxDepth} deep`, at)
    const el: XmlElement = { name: local, ns, qname, attrs, children: [], text: '', mixed: false, offset: at }
    const parent = stack[stack.length - 1]
    if (parent) {
      if (parent.hasText) parent.el.mixed = true
      parent.el.children.push(el)
    } else {
      root = el
    }
    if (!selfClosing) stack.push({ el, scope, hasText: false })
    return p + (selfClosing ? 2 : 1)
  }

  while (i < src.length) {
    const lt = src.indexOf('<', i)
    if (lt === -1) {
      addText(src.slice(i), i, false)
      break
    }
    if (lt > i) addText(src.slice(i, lt), i, false)
    if (src.startsWith('<!--', lt)) {
      const end = src.indexOf('-->', lt + 4)
      if (end === -1) fail('comment is not closed', lt)
      if (src.slice(lt + 4, end).includes('--')) fail("'--' is not allowed inside a comment", lt)
      i = end + 3
    } else if (src.startsWith('<![CDATA[', lt)) {
      if (stack.length === 0) fail('CDATA is not allowed outside the root element', lt)
      const end = src.indexOf(']]>', lt + 9)
      if (end === -1) fail('CDATA section is not closed', lt)
      addText(src.slice(lt + 9, end), lt + 9, true)
      i = end + 3
    } else if (src.startsWith('<!DOCTYPE', lt)) {
      over('a DOCTYPE is not allowed (CAP needs none, so no entity can be defined)', lt)
    } else if (src.startsWith('<!', lt)) {
      fail("'<!' must start a comment or a CDATA section", lt)
    } else if (src.startsWith('<?', lt)) {
      const end = src.indexOf('?>', lt + 2)
      if (end === -1) fail('processing instruction is not closed', lt)
      const target = /^[^ \t\r\n?]*/.exec(src.slice(lt + 2, Math.min(end, lt + 64)))?.[0] ?? ''
      if (target.toLowerCase() === 'xml') {
        if (lt !== (src.charCodeAt(0) === 0xfeff ? 1 : 0)) fail('the XML declaration must come first', lt)
        // The text arrives decoded as UTF-8: a document declaring another encoding would be read wrong.
        const encoding = /\sencoding\s*=\s*["']([^"']*)["']/.exec(src.slice(lt, end))?.[1]
        if (encoding !== undefined && !/^utf-?8$/i.test(encoding)) {
          over(`encoding ${encoding.slice(0, 40)} is not supported: send UTF-8`, lt)
        }
      }
      if (target === '') fail('processing instruction without a target', lt)
      i = end + 2
    } else if (src[lt + 1] === '/') {
      QNAME.lastIndex = lt + 2
      const m = QNAME.exec(src)
      const open = stack.pop()
      if (!m || !open) return fail('end tag without a start tag', lt)
      if (m[0] !== open.el.qname) fail(`end tag </${m[0]}> does not match <${open.el.qname}>`, lt)
      let p = lt + 2 + m[0].length
      while (isSpace(src[p])) p++
      if (src[p] !== '>') fail(`end tag </${m[0]}> is not closed`, lt)
      i = p + 1
    } else {
      i = startTag(lt)
    }
  }
  const open = stack[stack.length - 1]
  if (open) fail(`<${open.el.qname}> is never closed`, open.el.offset)
  if (!root) return fail('no root element', 0)
  return root
}
