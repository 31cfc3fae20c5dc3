/**
 * Text PostgreSQL can store: no NUL byte (its text types refuse U+0000) and no lone UTF-16 surrogate
 * (not encodable as UTF-8). The route kit checks every string of every request (params, query, body,
 * object keys included) before its schemas run, so each route refuses such input with 400, once.
 */
// eslint-disable-next-line no-control-regex -- NUL is exactly what is looked for
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function problemOf(text: string): string | undefined {
  const match = UNSTORABLE.exec(text);
  if (!match) return undefined;
  return match[0] === '\u0000'
    ? 'must not contain a NUL byte (U+0000)'
    : 'must not contain a lone UTF-16 surrogate';
}

/** Every unstorable string in `value` (a parsed request part), with its path; iterative, so depth costs no stack. */
export function unstorableText(where: string, value: unknown): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  const stack: { path: string[]; value: unknown }[] = [{ path: [where], value }];
  while (stack.length) {
    const { path, value: v } = stack.pop()!;
    if (typeof v === 'string') {
      const problem = problemOf(v);
      if (problem) problems.push({ path: path.join('.'), message: problem });
    } else if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push({ path: [...path, String(i)], value: item }));
    } else if (v && typeof v === 'object' && !Buffer.isBuffer(v)) {
      for (const [key, item] of Object.entries(v)) {
        const problem = problemOf(key);
        if (problem) problems.push({ path: [...path, key].join('.'), message: `a key ${problem}` });
        stack.push({ path: [...path, key], value: item });
      }
    }
  }
  return problems.reverse();
}
