/** The container under the registry: bindings, scopes, overrides, cycles, disposal. */
import { describe, expect, it } from 'vitest';
import { ServiceContainer, serviceToken } from '../src/index.js';

const A = serviceToken<{ n: number }>('test:a');
const B = serviceToken<{ a: { n: number } }>('test:b');

describe('ServiceContainer', () => {
  it('singleton: one instance per container, made on first use, shared by concurrent first uses', async () => {
    let made = 0;
    const c = new ServiceContainer().bind(A, async () => ({ n: ++made }));
    expect(made).toBe(0);
    const [x, y] = await Promise.all([c.get(A), c.get(A)]);
    expect(x).toBe(y);
    expect(made).toBe(1);
    const other = new ServiceContainer().bind(A, async () => ({ n: ++made }));
    expect(await other.get(A)).not.toBe(x);
  });

  it('transient: a new instance for every consumer', async () => {
    let made = 0;
    const c = new ServiceContainer().bind(A, () => ({ n: ++made }), { scope: 'transient' });
    expect((await c.get(A)).n).toBe(1);
    expect((await c.get(A)).n).toBe(2);
  });

  it('factories get their dependencies injected from the same container', async () => {
    const c = new ServiceContainer().bind(A, () => ({ n: 7 })).bind(B, async (s) => ({ a: await s.get(A) }));
    expect((await c.get(B)).a).toBe(await c.get(A));
  });

  it('binding twice is an error; override replaces, but not once the service is in use', async () => {
    const c = new ServiceContainer().bind(A, () => ({ n: 1 }));
    expect(() => c.bind(A, () => ({ n: 2 }))).toThrow(/^services: service "test:a" is already bound$/);
    c.override(A, () => ({ n: 3 }));
    expect(c.inUse(A)).toBe(false);
    expect((await c.get(A)).n).toBe(3);
    expect(c.inUse(A)).toBe(true);
    expect(() => c.override(A, () => ({ n: 4 }))).toThrow(/service "test:a" is already in use; override it before building keyrings/);
  });

  it('an unbound token and a cycle are errors that name the services', async () => {
    const c = new ServiceContainer();
    await expect(c.get(A)).rejects.toThrow(/^services: service "test:a" is not bound$/);
    c.bind(A, async (s) => ({ n: (await s.get(B)).a.n })).bind(B, async (s) => ({ a: await s.get(A) }));
    await expect(c.get(A)).rejects.toThrow(/^services: services depend on each other in a cycle: test:a → test:b → test:a$/);
  });

  it('a failed factory is not cached: the next use tries again', async () => {
    let calls = 0;
    const c = new ServiceContainer().bind(A, () => {
      if (++calls === 1) throw new Error('first time');
      return { n: calls };
    });
    await expect(c.get(A)).rejects.toThrow('first time');
    expect((await c.get(A)).n).toBe(2);
  });

  it('close disposes the singletons made, newest first, and the container can be used again', async () => {
    const order: string[] = [];
    const c = new ServiceContainer()
      .bind(A, () => ({ n: 1 }), { dispose: () => void order.push('a') })
      .bind(B, async (s) => ({ a: await s.get(A) }), { dispose: () => void order.push('b') });
    await c.get(B);
    await c.close();
    expect(order).toEqual(['b', 'a']);
    await c.get(A);
    await c.close();
    expect(order).toEqual(['b', 'a', 'a']);
  });

  it('tokens are equal by name (a plugin built against another copy of the package binds the same service)', async () => {
    const c = new ServiceContainer().bind(serviceToken<number>('test:n'), () => 42);
    expect(await c.get(serviceToken<number>('test:n'))).toBe(42);
    expect(c.names('test:')).toEqual(['test:n']);
  });
});
