/** The one activity of the versioning example workflows (tests/workflows/versioning.test.ts). */
export interface VersioningActivities {
  note(what: string): Promise<void>;
}
