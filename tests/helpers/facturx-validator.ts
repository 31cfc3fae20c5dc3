/**
 * Runs the Mustang project's validator (infra/embedded/binaries.ts fetches it into .cache/) on PDFs, in
 * one JVM for all of them (its start-up and the veraPDF / schematron set-up take most of the time).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { locateFacturXValidator } from '../../infra/embedded/binaries';

export interface ValidationReport {
  name: string;
  /** `valid` or `invalid`, the report's overall summary */
  status: string;
  /** the report's <error> elements (PDF/A, schema and EN 16931 rule failures) */
  errors: string[];
  report: string;
}

export async function validateFacturX(
  documents: { name: string; pdf: Buffer }[],
): Promise<ValidationReport[]> {
  const validator = locateFacturXValidator((message) => console.log(message));
  if (!validator) throw new Error('the Mustang validator is not available (java, javac and mvn are needed)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'facturx-'));
  try {
    const files = documents.map(({ name, pdf }) => {
      const file = path.join(dir, `${name}.pdf`);
      fs.writeFileSync(file, pdf);
      return file;
    });
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(validator, files, { maxBuffer: 64 * 1024 * 1024 }, (error, out, err) => {
        if (error) reject(new Error(`validator failed: ${error.message}\n${err}`));
        else resolve(out);
      });
    });
    const reports = stdout.split(/<!-- file: .*? -->\n/).slice(1);
    if (reports.length !== documents.length)
      throw new Error(
        `expected ${documents.length} reports, got ${reports.length}:\n${stdout.slice(0, 2000)}`,
      );
    return reports.map((report, i) => {
      const summaries = [...report.matchAll(/<summary status="(\w+)"\/>/g)].map((m) => m[1]);
      return {
        name: documents[i]!.name,
        status: summaries.at(-1) ?? 'missing',
        errors: [...report.matchAll(/<error\b[^>]*>([\s\S]*?)<\/error>/g)].map((m) => m[0]),
        report,
      };
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
