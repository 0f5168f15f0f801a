/**
 * Vietnamese numbers in words, as a newsreader says them: 21 → hai mươi mốt, 105 → một trăm linh năm,
 * 1.500.000 → một triệu năm trăm nghìn. Northern usage by default (linh, nghìn); Southern readers say lẻ, ngàn.
 */
export type Region = 'north' | 'central' | 'south'

const DIGITS = ['không', 'một', 'hai', 'ba', 'bốn', 'năm', 'sáu', 'bảy', 'tám', 'chín'] as const

const linh = (r: Region) => (r === 'south' ? 'lẻ' : 'linh')
const nghin = (r: Region) => (r === 'south' ? 'ngàn' : 'nghìn')

export function digitWord(d: number): string {
  return DIGITS[d] as string
}

/** 0–99 after a hundreds digit or alone; `full` = inside a bigger number, so 5 reads "linh năm". */
function belowHundred(n: number, full: boolean, r: Region): string {
  const tens = Math.floor(n / 10)
  const unit = n % 10
  if (tens === 0) return full ? `${linh(r)} ${digitWord(unit)}` : digitWord(unit)
  const head = tens === 1 ? 'mười' : `${digitWord(tens)} mươi`
  if (unit === 0) return head
  if (unit === 1) return `${head} ${tens === 1 ? 'một' : 'mốt'}`
  if (unit === 4) return `${head} ${tens === 1 ? 'bốn' : 'tư'}`
  if (unit === 5) return `${head} lăm`
  return `${head} ${digitWord(unit)}`
}

/** 0–999; `full` when a bigger group comes before it, so 5 reads "không trăm linh năm". */
function belowThousand(n: number, full: boolean, r: Region): string {
  const hundreds = Math.floor(n / 100)
  const rest = n % 100
  if (hundreds === 0 && !full) return belowHundred(rest, false, r)
  const head = `${digitWord(hundreds)} trăm`
  if (rest === 0) return head
  return `${head} ${belowHundred(rest, true, r)}`
}

const SCALES = ['', 'nghìn', 'triệu'] as const

/** Integer below one billion. */
function belowBillion(n: number, r: Region): string {
  const groups: number[] = []
  for (let x = n; x > 0; x = Math.floor(x / 1000)) groups.push(x % 1000)
  const words: string[] = []
  for (let i = groups.length - 1; i >= 0; i--) {
    const g = groups[i] as number
    // An empty group is skipped, as speakers do (1.000.500 → một triệu năm trăm).
    if (g === 0) continue
    const scale = i === 1 ? nghin(r) : (SCALES[i] as string)
    words.push(belowThousand(g, i < groups.length - 1, r) + (scale ? ` ${scale}` : ''))
  }
  return words.join(' ')
}

/** A non-negative integer (any size, as a digit string or a safe integer) in words. */
export function integerWords(value: number | string, r: Region = 'north'): string {
  const digits = String(value).replace(/^0+(?=\d)/, '')
  if (!/^\d+$/.test(digits)) throw new Error(`not a non-negative integer: ${value}`)
  if (digits === '0') return 'không'
  // Tỷ (10^9) repeats: 10^18 is "tỷ tỷ". Each 9-digit block below tỷ is read on its own.
  if (digits.length > 9) {
    const high = digits.slice(0, -9)
    const low = Number(digits.slice(-9))
    const head = `${integerWords(high, r)} tỷ`
    if (low === 0) return head
    return `${head} ${fullBelowBillion(low, r)}`
  }
  return belowBillion(Number(digits), r)
}

/** Below one billion after "tỷ": a leading short group keeps "không trăm" (2.000.000.050 → … tỷ không trăm năm mươi). */
function fullBelowBillion(n: number, r: Region): string {
  if (n >= 1000) return belowBillion(n, r)
  return belowThousand(n, true, r)
}

/** Digits one by one, as phone numbers and codes are read: 0912 → không chín một hai. */
export function digitsWords(digits: string): string {
  return [...digits.replace(/\D/g, '')].map((d) => digitWord(Number(d))).join(' ')
}

/**
 * A decimal written the Vietnamese way ("2,5"; thousands with dots). The fraction is read as a number when it is
 * short and has no leading zero (3,14 → ba phẩy mười bốn), otherwise digit by digit (0,05 → không phẩy không năm).
 */
export function decimalWords(intPart: string, fraction: string, r: Region = 'north'): string {
  const whole = integerWords(intPart.replace(/\./g, ''), r)
  const frac =
    fraction.length <= 2 && !fraction.startsWith('0') ? integerWords(fraction, r) : digitsWords(fraction)
  return `${whole} phẩy ${frac}`
}
