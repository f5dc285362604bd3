/**
 * Fastify's own schema compilers (Ajv for requests, fast-json-stringify for responses), made
 * lazy: a route's validator or serializer is compiled on its first request instead of at start.
 *
 * Why: compiled eagerly, the ~300 routes' functions, and fast-json-stringify's generated source
 * that V8 keeps for each, were ~25 MB of the idle server's heap, most of it for routes a given
 * deployment never calls (bench/README.md "idle RSS"). The first request to a route pays its
 * compilation once (~1 ms); every later one calls the compiled function through one extra
 * closure. Behaviour is otherwise unchanged: same compilers, same options, same error objects.
 *
 * A route's schema errors now surface on its first request rather than at start; the test
 * suite calls every route, and `test/integration/api-lazy-compilers.test.ts` compiles them all
 * (`app.compileAllSchemas()`).
 */
import type { FastifyServerOptions } from 'fastify';
import ajvCompiler from '@fastify/ajv-compiler';
import serializerCompiler from '@fastify/fast-json-stringify-compiler';

type Validate = ((data: unknown) => unknown) & { errors?: unknown };
type Serialize = (data: unknown) => string;
type CompilerFactory<F> = (externalSchemas: unknown, options: unknown) => (route: unknown) => F;
type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;

declare module 'fastify' {
  interface FastifyInstance {
    /** Compiles every route validator and serializer not compiled yet; returns how many. For tests. */
    compileAllSchemas(): number;
  }
}

export interface LazyCompilers {
  /** The `schemaController.compilersFactory` option of `Fastify()`. */
  factory: CompilersFactory;
  /** Compiles every validator and serializer not compiled yet; returns how many. */
  compileAll(): number;
}

/** Lazy versions of Fastify's default compilers, for one Fastify instance. */
export function lazyCompilers(): LazyCompilers {
  /** The not-yet-compiled functions' compile steps (each removes itself once run). */
  const pending = new Set<() => void>();

  function lazy<F extends (data: unknown) => unknown>(build: () => F): { call: (data: unknown) => unknown; compiled: () => F | null } {
    let fn: F | null = null;
    const compile = (): F => {
      if (fn === null) {
        fn = build();
        pending.delete(force);
      }
      return fn;
    };
    const force = (): void => { compile(); };
    pending.add(force);
    return { call: (data) => compile()(data), compiled: () => fn };
  }

  const validators = (factory: CompilerFactory<Validate>): CompilerFactory<Validate> => (externalSchemas, options) => {
    const compilerFor = factory(externalSchemas, options);
    return (route) => {
      const l = lazy(() => compilerFor(route));
      const validate: Validate = (data) => l.call(data);
      // Fastify reads `.errors` from the function it called after a `false` result (Ajv's API).
      Object.defineProperty(validate, 'errors', { get: () => l.compiled()?.errors });
      return validate;
    };
  };

  const serializers = (factory: CompilerFactory<Serialize>): CompilerFactory<Serialize> => (externalSchemas, options) => {
    const compilerFor = factory(externalSchemas, options);
    return (route) => {
      const l = lazy(() => compilerFor(route));
      return (data) => l.call(data) as string;
    };
  };

  return {
    // Fastify types a validator as Ajv's ValidateFunction; it only ever calls it and reads `errors`.
    factory: {
      buildValidator: validators(ajvCompiler() as unknown as CompilerFactory<Validate>),
      buildSerializer: serializers(serializerCompiler() as unknown as CompilerFactory<Serialize>),
    } as unknown as CompilersFactory,
    compileAll: () => {
      const all = [...pending];
      for (const f of all) f();
      return all.length;
    },
  };
}
