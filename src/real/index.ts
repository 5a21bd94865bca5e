// The real kernel's side of vrange-lab: the native harness, its runs, their reports.
export { harnessArgs, realRunResult, runRealEbizzy } from './ebizzy.js';
export {
  BUILD_HINT,
  HarnessMissingError,
  HarnessUsageError,
  harnessBuilt,
  nativeBinary,
  runNative,
} from './harness.js';
export { microResult, runRealMicro } from './micro.js';
export { renderMicro, renderRealRun } from './render.js';
export * from './types.js';
