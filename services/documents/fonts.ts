/**
 * The fonts legal documents are set in, embedded (subset) in every PDF: PDF/A forbids the standard 14 fonts
 * unembedded, and a buyer may be called "Dvořák", "Łódź", "Ελληνική", "شركة" or "株式会社". One font cannot
 * cover every script, so text is cut into runs, each set in the first font that has all its glyphs:
 * Noto Sans (Latin, Greek, Cyrillic), Noto Naskh Arabic, Noto Sans Hebrew, Noto Sans CJK (Han, kana,
 * Hangul). The files come from npm packages (`@embedpdf/fonts-*`, OFL), read once per process.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as fontkit from 'fontkit';

export type Weight = 'regular' | 'bold';

interface Family {
  name: string;
  files: Record<Weight, string>;
}

// the packages export only their (unused) JavaScript index, in dist/; the font files sit beside it in fonts/
const fontsOf = (pkg: string) => path.join(path.dirname(require.resolve(pkg)), '..', 'fonts');

/** In fallback order: the first family with a glyph for a character sets it. */
const FAMILIES: readonly Family[] = [
  {
    name: 'NotoSans',
    files: { regular: 'NotoSans-Regular.ttf', bold: 'NotoSans-Bold.ttf' },
  },
  {
    name: 'NotoNaskhArabic',
    files: { regular: 'NotoNaskhArabic-Regular.ttf', bold: 'NotoNaskhArabic-Bold.ttf' },
  },
  {
    name: 'NotoSansHebrew',
    files: { regular: 'NotoSansHebrew-Regular.ttf', bold: 'NotoSansHebrew-Bold.ttf' },
  },
  {
    name: 'NotoSansCJK',
    files: { regular: 'NotoSansHans-Regular.otf', bold: 'NotoSansHans-Bold.otf' },
  },
];

const PACKAGE_OF: Readonly<Record<string, string>> = {
  NotoSans: '@embedpdf/fonts-latin',
  NotoNaskhArabic: '@embedpdf/fonts-arabic',
  NotoSansHebrew: '@embedpdf/fonts-hebrew',
  NotoSansCJK: '@embedpdf/fonts-sc',
};

interface LoadedFont {
  /** the pdfkit name the font is registered under */
  key: string;
  data: Buffer;
  face: fontkit.Font;
}

const loaded = new Map<string, LoadedFont>();

function load(family: Family, weight: Weight): LoadedFont {
  const key = `${family.name}-${weight}`;
  let font = loaded.get(key);
  if (!font) {
    const file = path.join(fontsOf(PACKAGE_OF[family.name] ?? ''), family.files[weight]);
    const data = fs.readFileSync(file);
    const face = fontkit.create(data);
    if (!('hasGlyphForCodePoint' in face)) throw new Error(`${file} is a font collection, not a font`);
    font = { key, data, face };
    loaded.set(key, font);
  }
  return font;
}

export interface TextRun {
  text: string;
  /** the pdfkit font name (see registerFonts) */
  font: string;
}

/** Characters every font lays out the same way (spaces, digits, punctuation) stay in the current run. */
const NEUTRAL = /[\s\d.,:;!?'"()\-–—/%+&@#*€]/u;

/**
 * The text cut into runs of one font each. A character no font has stays in the main font (it prints as
 * that font's empty box rather than vanishing).
 */
export function textRuns(text: string, weight: Weight): TextRun[] {
  const runs: TextRun[] = [];
  const main = load(FAMILIES[0]!, weight).key;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    let font = runs.at(-1)?.font ?? main;
    if (!NEUTRAL.test(char)) {
      const family = FAMILIES.find((f) => load(f, weight).face.hasGlyphForCodePoint(code));
      font = family ? load(family, weight).key : main;
    }
    const last = runs.at(-1);
    if (last && last.font === font) last.text += char;
    else runs.push({ text: char, font });
  }
  return runs;
}

/** Registers every font of the fallback list in a pdfkit document (pdfkit opens a font when first used). */
export function registerFonts(doc: PDFKit.PDFDocument): void {
  for (const family of FAMILIES) {
    for (const weight of ['regular', 'bold'] as const) {
      const font = load(family, weight);
      doc.registerFont(font.key, font.data);
    }
  }
}

/** The pdfkit name of the main font of a weight. */
export function mainFont(weight: Weight): string {
  return load(FAMILIES[0]!, weight).key;
}
