import { describe, expect, it } from 'vitest'
import { expandAbbreviations } from './abbreviations.js'
import { normalizeVietnamese as n } from './normalize.js'
import { decimalWords, digitsWords, integerWords } from './numbers.js'

describe('integerWords', () => {
  it.each([
    [0, 'không'],
    [1, 'một'],
    [5, 'năm'],
    [10, 'mười'],
    [11, 'mười một'],
    [14, 'mười bốn'],
    [15, 'mười lăm'],
    [20, 'hai mươi'],
    [21, 'hai mươi mốt'],
    [24, 'hai mươi tư'],
    [25, 'hai mươi lăm'],
    [55, 'năm mươi lăm'],
    [100, 'một trăm'],
    [101, 'một trăm linh một'],
    [105, 'một trăm linh năm'],
    [110, 'một trăm mười'],
    [115, 'một trăm mười lăm'],
    [121, 'một trăm hai mươi mốt'],
    [1000, 'một nghìn'],
    [1005, 'một nghìn không trăm linh năm'],
    [1010, 'một nghìn không trăm mười'],
    [2026, 'hai nghìn không trăm hai mươi sáu'],
    [10_000, 'mười nghìn'],
    [1_500_000, 'một triệu năm trăm nghìn'],
    [1_000_500, 'một triệu năm trăm'],
    [1_000_050, 'một triệu không trăm năm mươi'],
    [2_000_000_000, 'hai tỷ'],
    [3_000_000_105, 'ba tỷ một trăm linh năm'],
  ])('%d → %s', (value, words) => {
    expect(integerWords(value)).toBe(words)
  })

  it('reads the Southern way for Southern voices', () => {
    expect(integerWords(105, 'south')).toBe('một trăm lẻ năm')
    expect(integerWords(2000, 'south')).toBe('hai ngàn')
  })

  it('refuses what is not a non-negative integer', () => {
    expect(() => integerWords('-1')).toThrow()
    expect(() => integerWords('1.5')).toThrow()
  })

  it('reads digits and decimals', () => {
    expect(digitsWords('0912')).toBe('không chín một hai')
    expect(decimalWords('2', '5')).toBe('hai phẩy năm')
    expect(decimalWords('3', '14')).toBe('ba phẩy mười bốn')
    expect(decimalWords('0', '05')).toBe('không phẩy không năm')
    expect(decimalWords('1.234', '567')).toBe('một nghìn hai trăm ba mươi tư phẩy năm sáu bảy')
  })
})

describe('normalizeVietnamese', () => {
  it.each([
    // numbers as written in Vietnamese (dots group thousands, a comma is the decimal mark)
    ['21 hộ', 'hai mươi mốt hộ'],
    ['105 người', 'một trăm linh năm người'],
    ['1.500.000 đồng', 'một triệu năm trăm nghìn đồng'],
    ['lượng mưa 2,5 lần', 'lượng mưa hai phẩy năm lần'],
    ['tăng 3.5 lần', 'tăng ba phẩy năm lần'],
    // dates
    ['25/12', 'ngày hai mươi lăm tháng mười hai'],
    ['ngày 25/12', 'ngày hai mươi lăm tháng mười hai'],
    ['25/12/2026', 'ngày hai mươi lăm tháng mười hai năm hai nghìn không trăm hai mươi sáu'],
    ['ngày 25-12-2026', 'ngày hai mươi lăm tháng mười hai năm hai nghìn không trăm hai mươi sáu'],
    ['ngày 5/9', 'ngày mùng năm tháng chín'],
    ['ngày 30/4', 'ngày ba mươi tháng tư'],
    ['từ ngày 25-27/12', 'từ ngày hai mươi lăm đến hai mươi bảy tháng mười hai'],
    ['tháng 12/2026', 'tháng mười hai năm hai nghìn không trăm hai mươi sáu'],
    ['32/13 không phải ngày', 'ba mươi hai/mười ba không phải ngày'],
    // times
    ['7h30', 'bảy giờ ba mươi phút'],
    ['7:30', 'bảy giờ ba mươi phút'],
    ['lúc 07:00 sáng', 'lúc bảy giờ sáng'],
    ['19 giờ', 'mười chín giờ'],
    ['7h05', 'bảy giờ năm phút'],
    ['7h', 'bảy giờ'],
    ['7h30 phút', 'bảy giờ ba mươi phút'],
    // ranges
    ['7-9 giờ', 'bảy đến chín giờ'],
    ['7h-9h', 'bảy giờ đến chín giờ'],
    ['từ 19h - 21h30', 'từ mười chín giờ đến hai mươi mốt giờ ba mươi phút'],
    ['2-3 km', 'hai đến ba ki-lô-mét'],
    // units
    ['10 km', 'mười ki-lô-mét'],
    ['120km/h', 'một trăm hai mươi ki-lô-mét trên giờ'],
    ['500 m', 'năm trăm mét'],
    ['20 kg', 'hai mươi ki-lô-gam'],
    ['10.000 ha', 'mười nghìn héc-ta'],
    ['35°C', 'ba mươi lăm độ xê'],
    ['-5°C', 'âm năm độ xê'],
    ['50%', 'năm mươi phần trăm'],
    ['200 mm', 'hai trăm mi-li-mét'],
    ['500.000đ', 'năm trăm nghìn đồng'],
    ['2.000.000 VNĐ', 'hai triệu đồng'],
    ['100 m2', 'một trăm mét vuông'],
    // abbreviations
    ['UBND xã', 'ủy ban nhân dân xã'],
    ['HĐND tỉnh', 'hội đồng nhân dân tỉnh'],
    ['TP. Huế', 'thành phố Huế'],
    ['TX. Sơn Tây', 'thị xã Sơn Tây'],
    ['Q.1', 'quận một'],
    ['P. Bến Nghé', 'phường Bến Nghé'],
    ['X. Tân Lập', 'xã Tân Lập'],
    ['TT Phú Mỹ', 'thị trấn Phú Mỹ'],
    ['theo TT 39/2020/TT-BTTTT', 'theo thông tư ba mươi chín năm hai nghìn không trăm hai mươi'],
    ['HTX Tân Lập', 'hợp tác xã Tân Lập'],
    ['CAND', 'công an nhân dân'],
    ['đội PCCC', 'đội phòng cháy chữa cháy'],
    ['BCH quân sự', 'ban chỉ huy quân sự'],
    ['trường THCS và THPT', 'trường trung học cơ sở và trung học phổ thông'],
    ['TP.HCM', 'thành phố Hồ Chí Minh'],
    // phone numbers, digit by digit in groups
    ['Gọi 0912 345 678', 'Gọi không chín một hai, ba bốn năm, sáu bảy tám'],
    ['0912345678', 'không chín một hai, ba bốn năm, sáu bảy tám'],
    ['SĐT: 024.3825.1234', 'số điện thoại: không hai bốn, ba tám hai năm, một hai ba bốn'],
    ['+84 912 345 678', 'cộng tám bốn, chín một hai, ba bốn năm, sáu bảy tám'],
    ['gọi 114', 'gọi một một bốn'],
    ['tổng đài 1900 1234', 'tổng đài một chín không không, một hai ba bốn'],
    // ordinals that are read differently
    ['thứ 4', 'thứ tư'],
    ['tháng 4', 'tháng tư'],
    ['lần thứ 1', 'lần thứ nhất'],
    ['thứ 2', 'thứ hai'],
    // letters glued to numbers, symbols
    ['cúm H5N1', 'cúm H năm N một'],
    ['COVID-19', 'cô vít mười chín'],
    ['nam & nữ', 'nam và nữ'],
  ])('%s → %s', (input, expected) => {
    expect(n(input)).toBe(expected)
  })

  it('normalises a whole bulletin and keeps its lines', () => {
    const text =
      'UBND xã thông báo: từ 7h30 ngày 25/12/2026, mực nước sông dâng 1,5 m.\nLiên hệ 0912 345 678 (7-9 giờ).'
    expect(n(text)).toBe(
      'ủy ban nhân dân xã thông báo: từ bảy giờ ba mươi phút ngày hai mươi lăm tháng mười hai năm hai nghìn ' +
        'không trăm hai mươi sáu, mực nước sông dâng một phẩy năm mét.\n' +
        'Liên hệ không chín một hai, ba bốn năm, sáu bảy tám (bảy đến chín giờ).',
    )
  })

  it('uses the Southern wording for a Southern voice', () => {
    expect(n('105 người, 2.000 con', { region: 'south' })).toBe('một trăm lẻ năm người, hai ngàn con')
  })

  it('leaves text without numbers or abbreviations alone (Unicode NFC)', () => {
    const decomposed = 'Thông báo'.normalize('NFD')
    expect(n(decomposed)).toBe('Thông báo')
    expect(n('  nhiều   khoảng trắng  ')).toBe('nhiều khoảng trắng')
  })

  it('expands abbreviations only as whole tokens', () => {
    expect(expandAbbreviations('XUBNDX')).toBe('XUBNDX')
    expect(expandAbbreviations('ubnd')).toBe('ubnd')
    expect(expandAbbreviations('Q. cuối')).toBe('Q. cuối')
  })
})
