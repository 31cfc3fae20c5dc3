/**
 * `npm run temporal:build`: builds the real Temporal server and its SQL tool into `.cache/` (binaries.ts),
 * unless they are there. `npm test` runs it in the background first, so the build (about 4 minutes on 2 cores)
 * overlaps the type-check and lint and happens once per run; the cluster tests wait for it.
 */
import { locateTemporalServer } from '../infra/embedded/binaries';

locateTemporalServer((message) => console.log(message)).then(
  (found) => {
    if (!found) process.exit(1);
    console.log(`Temporal server ready: ${found.server}`);
  },
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
