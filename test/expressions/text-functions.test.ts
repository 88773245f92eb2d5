// Text functions: NormalizeDiacritics' documented table, PCase, culture-aware case, encodings, Word, InStr.
import { describe, expect, it } from 'vitest';
import { evaluateExpression } from '../../src/expressions/index.js';

const value = (expression: string, attributes: Record<string, unknown> = {}) => evaluateExpression(expression, attributes).value;

// Microsoft's NormalizeDiacritics table, row by row (functions-for-customizing-application-data.md#normalizediacritics).
const DIACRITICS_TABLE: [string, string][] = [
  ['ä à â ã å á ą ă ā ā́ ā̀ ā̂ ā̃ ǟ ā̈ ǡ a̱ å̄', 'a'],
  ['Ä À Â Ã Å Á Ą Ă Ā Ā́ Ā̀ Ā̂ Ā̃ Ǟ Ā̈ Ǡ A̱ Å̄', 'A'],
  ['æ ǣ', 'ae'], ['Æ Ǣ', 'AE'],
  ['ç č ć c̄ c̱', 'c'], ['Ç Č Ć C̄ C̱', 'C'],
  ['ď d̄ ḏ', 'd'], ['Ď D̄ Ḏ', 'D'],
  ['ë è é ê ę ě ė ē ḗ ḕ ē̂ ē̃ ê̄ e̱ ë̄ e̊̄', 'e'], ['Ë È É Ê Ę Ě Ė Ē Ḗ Ḕ Ē̂ Ē̃ Ê̄ E̱ Ë̄ E̊̄', 'E'],
  ['ğ ḡ g̱', 'g'], ['Ğ Ḡ G̱', 'G'],
  ['ï î ì í ı ī ī́ ī̀ ī̂ ī̃ i̱', 'i'], ['Ï Î Ì Í İ Ī Ī́ Ī̀ Ī̂ Ī̃ I̱', 'I'],
  ['ľ ł l̄ ḹ ḻ', 'l'], ['Ł Ľ L̄ Ḹ Ḻ', 'L'],
  ['ñ ń ň n̄ ṉ', 'n'], ['Ñ Ń Ň N̄ Ṉ', 'N'],
  ['ö ò ő õ ô ó ō ṓ ṑ ō̂ ō̃ ȫ ō̈ ǭ ȭ ȱ o̱', 'o'], ['Ö Ò Ő Õ Ô Ó Ō Ṓ Ṑ Ō̂ Ō̃ Ȫ Ō̈ Ǭ Ȭ Ȱ O̱', 'O'],
  ['ø ø̄ œ̄', 'oe'], ['Ø Ø̄ Œ̄', 'OE'],
  ['ř r̄ ṟ ṝ', 'r'], ['Ř R̄ Ṟ Ṝ', 'R'],
  ['ß', 'ss'],
  ['š ś ș ş s̄ s̱', 's'], ['Š Ś Ș Ş S̄ S̱', 'S'],
  ['ť ț t̄ ṯ', 't'], ['Ť Ț T̄ Ṯ', 'T'],
  ['ü ù û ú ů ű ū ū́ ū̀ ū̂ ū̃ u̇̄ ǖ ṻ ṳ̄ u̱', 'u'], ['Ü Ù Û Ú Ů Ű Ū Ū́ Ū̀ Ū̂ Ū̃ U̇̄ Ǖ Ṻ Ṳ̄ U̱', 'U'],
  ['ÿ ý ȳ ȳ́ ȳ̀ ȳ̃ y̱', 'y'], ['Ÿ Ý Ȳ Ȳ́ Ȳ̀ Ȳ̃ Y̱', 'Y'],
  ['ź ž ż z̄ ẕ', 'z'], ['Ź Ž Ż Z̄ Ẕ', 'Z'],
];

describe('NormalizeDiacritics', () => {
  it.each(DIACRITICS_TABLE)('%s → %s', (inputs, output) => {
    for (const input of inputs.split(' ')) {
      expect(value('NormalizeDiacritics([x])', { x: input }), input).toBe(output);
    }
  });

  it('keeps plain text, other scripts and characters outside the table unchanged', () => {
    expect(value('NormalizeDiacritics([x])', { x: 'Jéssica Smith-Ørsted' })).toBe('Jessica Smith-OErsted');
    expect(value('NormalizeDiacritics([x])', { x: 'नमस्ते 東京 Đoàn' })).toBe('नमस्ते 東京 Đoan');
  });
});

describe('PCase', () => {
  it('capitalises after .NET title-case separators and lowers the rest', () => {
    expect(value('PCase([x])', { x: "o'NEIL-SMITH jr. mc_donald" })).toBe("O'Neil-Smith Jr. Mc_Donald");
  });
  it('with separators, only those characters start a word', () => {
    expect(value('PCase([x], " ")', { x: 'ANNE-MARIE DUPONT' })).toBe('Anne-marie Dupont');
  });
});

describe('ToLower / ToUpper', () => {
  it('use the invariant culture by default and the given culture when asked', () => {
    expect(value('ToUpper([x])', { x: 'istanbul' })).toBe('ISTANBUL');
    expect(value('ToUpper([x], "tr-TR")', { x: 'istanbul' })).toBe('İSTANBUL');
    expect(value('ToLower([x], "tr-TR")', { x: 'ISPARTA' })).toBe('ısparta');
    expect(value('ToLower(Mid([x], 1, 3), )', { x: 'ABCD' })).toBe('abc');
  });
});

describe('encodings', () => {
  it('ConvertFromBase64 reverses ConvertToBase64 (UTF-16LE) and reads UTF8 when told', () => {
    expect(value('ConvertFromBase64(ConvertToBase64([x]))', { x: 'Grüße 東京' })).toBe('Grüße 東京');
    expect(value('ConvertFromBase64("SGVsbG8=", UTF8)')).toBe('Hello');
    expect(() => value('ConvertFromBase64("not base64!")')).toThrow(/not Base64/);
  });
  it('ConvertToUTF8Hex encodes multi-byte characters', () => {
    expect(value('ConvertToUTF8Hex("é€")')).toBe('C3A9E282AC');
  });
});

describe('Word, InStr, Left, Mid, StripSpaces, Trim', () => {
  it.each([
    ['Word("a,,b", 2, ",")', 'b'],
    ['Word("a b", 0, " ")', ''],
    ['Word("a b", 3, " ")', ''],
    ['InStr("abcabc", "c", 4)', 6],
    ['InStr("abc", "", 2)', 2],
    ['InStr("abc", "x")', 0],
    ['InStr("abc", "a", 9)', 0],
    ['Left("John", -1)', 'John'],
    ['Left("John", 0)', ''],
    ['Left("John", 10)', 'John'],
    ['Mid("John", 3, 10)', 'hn'],
    ['Mid("John", 9, 2)', ''],
    ['StripSpaces(" a b\tc ")', 'ab\tc'],
    ['Trim("  a b \n")', 'a b'],
    ['Count(Split("a;b;c", ";"))', 3],
    ['Join("-", Split("a;b", ";"), "c")', 'a-b-c'],
  ])('%s → %j', (expression, expected) => {
    expect(value(expression)).toEqual(expected);
  });
});
