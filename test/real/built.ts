// Whether the native harness is built; tests that run it skip with this reason when it is not
// (CI builds it: .ci/run runs `npm ci`, whose postinstall runs scripts/build-native.mjs).
import { harnessBuilt } from '../../src/real/harness.js';

export const BUILT = harnessBuilt();
export const SKIP_REASON = 'native harness not built (npm run build:native): harness tests skipped';
if (!BUILT) console.warn(SKIP_REASON);
