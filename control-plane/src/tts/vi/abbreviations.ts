/**
 * Abbreviations common in commune bulletins, spelled out for speech. Case-sensitive and matched only as whole
 * tokens, so "UBND" expands but "ubnd" inside a word does not. Longer forms are tried first.
 */
const WORDS: ReadonlyArray<readonly [string, string]> = [
  ['UBND', 'ủy ban nhân dân'],
  ['HĐND', 'hội đồng nhân dân'],
  ['MTTQ', 'mặt trận tổ quốc'],
  ['HTX', 'hợp tác xã'],
  ['CAND', 'công an nhân dân'],
  ['QĐND', 'quân đội nhân dân'],
  ['PCCC', 'phòng cháy chữa cháy'],
  ['PCCC&CNCH', 'phòng cháy chữa cháy và cứu nạn cứu hộ'],
  ['CNCH', 'cứu nạn cứu hộ'],
  ['PCTT', 'phòng chống thiên tai'],
  ['TKCN', 'tìm kiếm cứu nạn'],
  ['PCTT&TKCN', 'phòng chống thiên tai và tìm kiếm cứu nạn'],
  ['BCH', 'ban chỉ huy'],
  ['BCĐ', 'ban chỉ đạo'],
  ['BQL', 'ban quản lý'],
  ['THCS', 'trung học cơ sở'],
  ['THPT', 'trung học phổ thông'],
  ['CSGT', 'cảnh sát giao thông'],
  ['ATGT', 'an toàn giao thông'],
  ['ATTP', 'an toàn thực phẩm'],
  ['BHYT', 'bảo hiểm y tế'],
  ['BHXH', 'bảo hiểm xã hội'],
  ['GD&ĐT', 'giáo dục và đào tạo'],
  ['NN&PTNT', 'nông nghiệp và phát triển nông thôn'],
  ['TN&MT', 'tài nguyên và môi trường'],
  ['KT-XH', 'kinh tế xã hội'],
  ['ĐBSCL', 'đồng bằng sông Cửu Long'],
  ['CHXHCN', 'cộng hòa xã hội chủ nghĩa'],
  ['KCN', 'khu công nghiệp'],
  ['TTYT', 'trung tâm y tế'],
  ['TYT', 'trạm y tế'],
  ['SĐT', 'số điện thoại'],
  ['HCM', 'Hồ Chí Minh'],
  ['TW', 'trung ương'],
  ['VN', 'Việt Nam'],
  ['NĐ-CP', 'nghị định chính phủ'],
  ['QĐ-UBND', 'quyết định ủy ban nhân dân'],
  ['COVID-19', 'cô vít mười chín'],
  ['v.v.', 'vân vân'],
  ['Đ/c', 'đồng chí'],
  ['đ/c', 'đồng chí'],
  ['TP', 'thành phố'],
]

/** Administrative prefixes written with a dot before a name or number: "TP. Huế", "Q.1", "X. Tân Lập". */
const PREFIXES: ReadonlyArray<readonly [string, string]> = [
  ['TP.', 'thành phố'],
  ['Tp.', 'thành phố'],
  ['TX.', 'thị xã'],
  ['TT.', 'thị trấn'],
  ['Q.', 'quận'],
  ['P.', 'phường'],
  ['X.', 'xã'],
  ['H.', 'huyện'],
]

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
const NOT_WORD_BEFORE = '(?<![\\p{L}\\p{N}])'
const NOT_WORD_AFTER = '(?![\\p{L}\\p{N}])'

const byLength = <T extends readonly [string, string]>(xs: ReadonlyArray<T>) =>
  [...xs].sort((a, b) => b[0].length - a[0].length)

const wordPatterns = byLength(WORDS).map(
  ([abbr, full]) => [new RegExp(`${NOT_WORD_BEFORE}${escapeRe(abbr)}${NOT_WORD_AFTER}`, 'gu'), full] as const,
)
const prefixPatterns = byLength(PREFIXES).map(
  ([abbr, full]) =>
    [new RegExp(`${NOT_WORD_BEFORE}${escapeRe(abbr)}\\s*(?=[\\p{Lu}\\d])`, 'gu'), `${full} `] as const,
)

/** "TT" is a circular (thông tư) before a number or "số", a township (thị trấn) otherwise. */
const THONG_TU = new RegExp(`${NOT_WORD_BEFORE}TT(?=\\s*(?:\\d|số(?!\\p{L})))`, 'gu')
const THI_TRAN = /(?<![\p{L}\p{N}/])TT(?![\p{L}\p{N}-])/gu

export function expandAbbreviations(text: string): string {
  let out = text
  for (const [re, full] of prefixPatterns) out = out.replace(re, full)
  out = out.replace(THONG_TU, 'thông tư').replace(THI_TRAN, 'thị trấn')
  for (const [re, full] of wordPatterns) out = out.replace(re, full)
  return out
}

/** The table, for docs and the console's help. */
export const ABBREVIATIONS: ReadonlyArray<readonly [string, string]> = [
  ...PREFIXES,
  ['TT (before a number)', 'thông tư'],
  ['TT', 'thị trấn'],
  ...WORDS,
]
