/**
 * The text of a PDF (pdf-parse) and its embedded files (pdf.js), read in a child Node process. pdf.js sets
 * up its worker with a dynamic `import()`, which Jest's CommonJS sandbox refuses without
 * --experimental-vm-modules; a plain Node process has no such limit and keeps the test on the real library.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

const EXTRACT = `
import { PDFParse } from 'pdf-parse';
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const parser = new PDFParse({ data: new Uint8Array(Buffer.concat(chunks)) });
try {
  process.stdout.write((await parser.getText()).text);
} finally {
  await parser.destroy();
}
`;

const ATTACHMENT = `
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const doc = await getDocument({ data: new Uint8Array(Buffer.concat(chunks)) }).promise;
try {
  const files = (await doc.getAttachments()) ?? {};
  const name = process.env.ATTACHMENT_NAME;
  const file = Object.values(files).find((f) => f.filename === name);
  if (!file) throw new Error('no ' + name + ' among ' + JSON.stringify(Object.keys(files)));
  process.stdout.write(Buffer.from(file.content));
} finally {
  await doc.destroy();
}
`;

export function pdfText(pdf: Buffer): Promise<string> {
  return runOn(EXTRACT, pdf).then((out) => out.toString('utf8'));
}

/** The file embedded in the PDF under that name (a Factur-X PDF/A-3: `factur-x.xml`). */
export function pdfAttachment(pdf: Buffer, name: string): Promise<Buffer> {
  return runOn(ATTACHMENT, pdf, { ATTACHMENT_NAME: name });
}

function runOn(script: string, pdf: Buffer, env: Record<string, string> = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: path.resolve(__dirname, '../..'), // where node_modules is found
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new Error(`reading the PDF failed (${code}): ${Buffer.concat(err).toString('utf8')}`));
    });
    child.stdin.end(pdf);
  });
}
