/**
 * Bulk import of v15 licences (ops): rows from JSON or CSV, each validated on its own so one bad row does
 * not stop the others. Pure: parsing and validation only; the service writes the good rows.
 */
import { z } from 'zod';
import { BASE_ID_PATTERN } from './base-id';
import { formatLocalDate, isLocalDate, type LocalDate } from './periods';

/** CSV columns, in any order; header names are matched case-insensitively. */
export const V15_IMPORT_COLUMNS = [
  'baseId',
  'holder',
  'email',
  'edition',
  'mode',
  'connections',
  'endDate',
] as const;
const REQUIRED_COLUMNS = ['baseId', 'holder', 'edition', 'connections', 'endDate'] as const;

/** A date as YYYY-MM-DD, or DD/MM/YYYY as French spreadsheets write it. */
export function parseImportDate(text: string): LocalDate | undefined {
  const trimmed = text.trim();
  if (isLocalDate(trimmed)) return trimmed;
  const fr = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(trimmed);
  if (!fr) return undefined;
  try {
    return formatLocalDate({ year: Number(fr[3]), month: Number(fr[2]), day: Number(fr[1]) });
  } catch {
    return undefined;
  }
}

const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const upper = (v: unknown) => (typeof v === 'string' ? v.trim().toUpperCase() : v);

export const v15ImportRowSchema = z.object({
  baseId: z.string().trim().regex(BASE_ID_PATTERN, 'a base ID is exactly 17 digits'),
  holder: z.string().trim().min(1, 'the holder is required').max(200),
  email: z.preprocess(blankToUndefined, z.email('not an email address').max(254).optional()),
  edition: z.preprocess(upper, z.enum(['STANDARD', 'ENTERPRISE'], 'STANDARD or ENTERPRISE')),
  mode: z.preprocess(
    (v) => upper(blankToUndefined(v)),
    z.enum(['LOCAL', 'CLOUD'], 'LOCAL or CLOUD').default('LOCAL'),
  ),
  connections: z.preprocess(
    (v) => (typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v),
    z
      .number('a whole number of connections')
      .int('a whole number of connections')
      .min(1, 'at least 1 connection (0 is not a licence)')
      .max(1000, 'at most 1000 connections'),
  ),
  endDate: z.string('the last valid day, YYYY-MM-DD or DD/MM/YYYY').transform((v, ctx) => {
    const date = parseImportDate(v);
    if (!date) {
      ctx.addIssue({ code: 'custom', message: `not a date (YYYY-MM-DD or DD/MM/YYYY): ${v}` });
      return z.NEVER;
    }
    return date;
  }),
});

export type V15ImportRow = z.infer<typeof v15ImportRowSchema>;

export interface ImportRowError {
  /** CSV: the line in the file (the header is line 1); JSON: the position in the array, from 1 */
  line: number;
  baseId?: string;
  reason: string;
}

export interface ValidatedImport {
  rows: { line: number; row: V15ImportRow }[];
  errors: ImportRowError[];
}

/** Validates every row; a base ID given twice in one file is an error on the later line. */
export function validateImportRows(raw: { line: number; value: unknown }[]): ValidatedImport {
  const rows: ValidatedImport['rows'] = [];
  const errors: ImportRowError[] = [];
  const seen = new Map<string, number>();
  for (const { line, value } of raw) {
    const parsed = v15ImportRowSchema.safeParse(value);
    const rawBaseId = (value as { baseId?: unknown } | null)?.baseId;
    const baseId = typeof rawBaseId === 'string' && rawBaseId.trim() ? rawBaseId.trim() : undefined;
    if (!parsed.success) {
      const reason = parsed.error.issues
        .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
        .join('; ');
      errors.push({ line, ...(baseId ? { baseId } : {}), reason });
      continue;
    }
    const earlier = seen.get(parsed.data.baseId);
    if (earlier !== undefined) {
      errors.push({ line, baseId: parsed.data.baseId, reason: `base ID already given on line ${earlier}` });
      continue;
    }
    seen.set(parsed.data.baseId, line);
    rows.push({ line, row: parsed.data });
  }
  return { rows, errors };
}

/** RFC 4180 records: fields separated by `separator`, quoted with "..." ("" inside quotes is one "). */
function csvRecords(text: string, separator: string): { line: number; fields: string[] }[] {
  const records: { line: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let recordLine = 1;
  const endRecord = () => {
    fields.push(field);
    if (fields.length > 1 || fields[0]!.trim() !== '') records.push({ line: recordLine, fields });
    fields = [];
    field = '';
  };
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else {
        if (c === '\n') line += 1;
        field += c;
      }
    } else if (c === '"') quoted = true;
    else if (c === separator) {
      fields.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i += 1;
      endRecord();
      line += 1;
      recordLine = line;
    } else field += c;
  }
  if (field !== '' || fields.length) endRecord();
  return records;
}

export type CsvParseResult =
  { ok: true; raw: { line: number; value: Record<string, string> }[] } | { ok: false; reason: string };

/**
 * A CSV file with a header line naming the columns (`V15_IMPORT_COLUMNS`, any order, any case), separated by
 * commas or semicolons (French spreadsheets), as raw rows for `validateImportRows`.
 */
export function parseV15Csv(text: string): CsvParseResult {
  const body = text.replace(/^\uFEFF/, ''); // spreadsheet byte-order mark
  const firstLine = body.split(/\r?\n/, 1)[0] ?? '';
  const separator = firstLine.split(';').length > firstLine.split(',').length ? ';' : ',';
  const [header, ...records] = csvRecords(body, separator);
  if (!header) return { ok: false, reason: 'the file is empty' };
  const byLowerName = new Map(V15_IMPORT_COLUMNS.map((c) => [c.toLowerCase(), c]));
  const columns = header.fields.map((f) => byLowerName.get(f.trim().toLowerCase()));
  const unknown = header.fields.filter((_f, i) => !columns[i]).map((f) => f.trim());
  if (unknown.length) return { ok: false, reason: `unknown columns: ${unknown.join(', ')}` };
  const missing = REQUIRED_COLUMNS.filter((c) => !columns.includes(c));
  if (missing.length) return { ok: false, reason: `missing columns: ${missing.join(', ')}` };
  return {
    ok: true,
    raw: records.map(({ line, fields }) => ({
      line,
      value: Object.fromEntries(columns.map((c, i) => [c!, fields[i] ?? ''])),
    })),
  };
}
