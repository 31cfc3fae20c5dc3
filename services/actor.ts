/** Who is acting: recorded in the audit log with every change. */
export type Actor =
  | { type: 'INSTALLATION'; id: string }
  | { type: 'OPS'; id: string; role: 'OPS' | 'ADMIN' }
  | { type: 'SYSTEM'; id: string }
  | { type: 'CLI'; id: string };

export const systemActor = (what: string): Actor => ({ type: 'SYSTEM', id: what });
