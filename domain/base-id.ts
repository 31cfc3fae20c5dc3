import { z } from 'zod';

/** A base (ERP database) is identified by 17 digits, e.g. 82520020025896075 — never by company name. */
export const BASE_ID_PATTERN = /^\d{17}$/;

export const baseIdSchema = z.string().regex(BASE_ID_PATTERN, 'a base ID is exactly 17 digits');

export function isBaseId(value: string): boolean {
  return BASE_ID_PATTERN.test(value);
}
