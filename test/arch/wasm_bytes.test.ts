// Goal: the committed module bytes (src/arch/arch_wasm.ts) are exactly what src/arch/arch.wat
// assembles to, so the text in the repository is the code that runs.

import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { assembleArch, BYTES_PATH, bytesModule, WAT_PATH } from '../../scripts/gen_arch_wasm.js';
import { ARCH_WASM_BASE64 } from '../../src/arch/arch_wasm.js';

it('arch.wat assembles to the committed bytes, and the generated module is what is committed', async () => {
  const bytes = await assembleArch();
  expect(Buffer.from(bytes).toString('base64')).toBe(ARCH_WASM_BASE64);
  expect(bytesModule(bytes)).toBe(readFileSync(BYTES_PATH, 'utf8'));
});

it('a changed arch.wat no longer matches the committed bytes', async () => {
  const text = readFileSync(WAT_PATH, 'utf8').replace('(i32.const 4096)))', '(i32.const 4095)))');
  const bytes = await assembleArch(text);
  expect(Buffer.from(bytes).toString('base64')).not.toBe(ARCH_WASM_BASE64);
});
