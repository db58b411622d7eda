/** `multi`: a generator and children, each a keyring configuration of its own. */
import { MultiKeyring } from '@envelope/core';
import { defineKeyringProvider } from '../provider.js';
import { s } from '../schema.js';

export const multiProvider = defineKeyringProvider({
  type: 'multi',
  schema: s
    .object({ type: s.literal('multi'), generator: s.unknown(), children: s.array(s.unknown()).default([]) })
    .refine((c) => c.generator !== undefined || c.children.length > 0, 'a multi keyring needs a generator or children'),
  async create(c, deps, at) {
    const generator = c.generator === undefined ? undefined : await deps.build(c.generator, `${at}.generator`);
    const children = [];
    for (const [i, child] of c.children.entries()) children.push(await deps.build(child, `${at}.children[${i}]`));
    return new MultiKeyring({ generator, children });
  },
  children: (c, at) => [
    ...(c.generator === undefined ? [] : [{ config: c.generator, path: `${at}.generator` }]),
    ...c.children.map((child, i) => ({ config: child, path: `${at}.children[${i}]` })),
  ],
});
