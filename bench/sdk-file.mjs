// The AWS Encryption SDK's buffer API as a command, for the whole-process round trip:
//   node bench/sdk-file.mjs encrypt <in> <out> <suite> <frameLength>
//   node bench/sdk-file.mjs decrypt <in> <out>
// Reads the whole file, one encrypt/decrypt call, writes the whole result (what an application
// using client.encrypt/decrypt on files does). Same key and context as the CLI side.
import { readFileSync, writeFileSync } from 'node:fs';
import { buffer } from './sdk.mjs';

const [, , op, input = '', output = '', suiteArg, frameArg] = process.argv;
const data = readFileSync(input);
if (op === 'encrypt') writeFileSync(output, await buffer.encrypt(data, Number(suiteArg), Number(frameArg)));
else if (op === 'decrypt') writeFileSync(output, await buffer.decrypt(data));
else throw new Error('usage: sdk-file.mjs encrypt|decrypt <in> <out> [suite frameLength]');
