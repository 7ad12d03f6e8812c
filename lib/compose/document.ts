/**
 * Parsing of the compose text and location of the service's `volumes:` node. The
 * parsed document is only read: edits are spliced into the original text elsewhere,
 * because re-stringifying a document reformats quotes, flow lists and comments.
 */
import { isAlias, isMap, isScalar, isSeq, parseDocument, visit, type Document, type Node, type Pair, type YAMLMap, type YAMLSeq } from 'yaml';
import type { ComposeProblem } from '../errors.js';
import { invalidCompose } from './problems.js';

type ProblemPath = (string | number)[];

/** Compose files use `<<` merge keys, which the yaml library turns off by default for YAML 1.2. */
const PARSE_OPTIONS = { keepSourceTokens: true, merge: true } as const;

/** Location of the service's volumes, and whether the transform may edit them. */
export interface ServiceLocation {
  servicePair: Pair;
  /** The service mapping, resolved when the service is an alias. */
  serviceMap: YAMLMap;
  /** `['services', <service>, 'volumes']`, the prefix of every problem path about entries. */
  volumesPath: ProblemPath;
  /** The local `volumes:` pair of the service, absent when the key is not written there. */
  volumesPair: Pair | undefined;
  /** The local `volumes:` sequence, when written in place (not an alias). */
  volumesSeq: YAMLSeq | undefined;
  /** The service's effective volumes as plain values, after aliases and merge keys. */
  entries: unknown[];
  /** Problem that keeps the volumes from being edited by splicing, undefined when there is none. */
  readOnlyProblem: ComposeProblem | undefined;
  /** The whole document as plain values, after aliases and merge keys. */
  value: Record<string, unknown>;
}

/** Parses `text`, throwing ComposeError COMPOSE_INVALID when it is not one valid YAML document. */
export function parseCompose(text: string): Document.Parsed {
  const doc = parseDocument(text, PARSE_OPTIONS);
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((error) => ({ path: [], message: error.message.split('\n')[0] ?? error.code }));
    throw invalidCompose('the compose file is not valid YAML', problems);
  }
  return doc;
}

/** Converts the document to plain values, resolving aliases and merge keys. */
export function documentValue(doc: Document.Parsed): unknown {
  try {
    return doc.toJS();
  } catch (error) {
    // toJS rejects documents whose aliases expand too far, a guard against alias bombs.
    const message = error instanceof Error ? error.message : String(error);
    throw invalidCompose('the compose file cannot be resolved', [{ path: [], message }]);
  }
}

/** Finds the pair whose scalar key reads as `key`, so a service named `8080` (a number key) is found. */
export function findPair(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((pair) => isScalar(pair.key) && String(pair.key.value) === key);
}

/**
 * Locates `services.<service>.volumes`. Throws ComposeError COMPOSE_INVALID when
 * `services` or the service is missing or not a mapping, or `volumes` is not a sequence.
 */
export function locateService(doc: Document.Parsed, service: string): ServiceLocation {
  const root = doc.contents;
  if (!isMap(root)) throw invalidCompose('the compose file has no top-level mapping', [problem([], 'expected a mapping of top-level keys')]);

  const servicesPair = findPair(root, 'services');
  if (servicesPair === undefined) throw invalidCompose('the compose file has no services', [problem(['services'], 'missing key')]);
  const services = resolve(doc, servicesPair.value);
  if (!isMap(services)) throw invalidCompose('services is not a mapping', [problem(['services'], 'expected a mapping of services')]);

  const servicePath = ['services', service];
  const servicePair = findPair(services, service);
  if (servicePair === undefined) {
    const names = services.items.map((pair) => String(isScalar(pair.key) ? pair.key.value : pair.key)).join(', ');
    throw invalidCompose(`service "${service}" not found`, [problem(servicePath, `service not found. Services in the file: ${names || 'none'}`)]);
  }
  const serviceMap = resolve(doc, servicePair.value);
  if (!isMap(serviceMap)) throw invalidCompose(`service "${service}" is not a mapping`, [problem(servicePath, 'expected a mapping')]);

  const volumesPath = [...servicePath, 'volumes'];
  const value = documentValue(doc) as Record<string, unknown>;
  const effectiveVolumes = serviceValue(value, service).volumes;
  if (effectiveVolumes !== undefined && !Array.isArray(effectiveVolumes)) {
    throw invalidCompose(`volumes of service "${service}" is not a sequence`, [problem(volumesPath, 'expected a sequence of volume entries')]);
  }

  const volumesPair = findPair(serviceMap, 'volumes');
  const volumesSeq = volumesPair !== undefined && isSeq(volumesPair.value) ? volumesPair.value : undefined;
  const readOnlyProblem = findReadOnlyProblem(servicesPair, servicePair, volumesPair, effectiveVolumes !== undefined, servicePath);
  const entries = effectiveVolumes ?? [];
  return { servicePair, serviceMap, volumesPath, volumesPair, volumesSeq, entries, readOnlyProblem, value };
}

/** Returns the plain value of `services.<service>` in a document value, or `{}`. */
export function serviceValue(value: Record<string, unknown>, service: string): Record<string, unknown> {
  const services = value.services as Record<string, unknown>;
  const serviceObject = services[service];
  return serviceObject !== null && typeof serviceObject === 'object' ? (serviceObject as Record<string, unknown>) : {};
}

/** Explains why the volumes are shared with other nodes or come from elsewhere, if they do. */
function findReadOnlyProblem(
  servicesPair: Pair,
  servicePair: Pair,
  volumesPair: Pair | undefined,
  hasVolumes: boolean,
  servicePath: ProblemPath,
): ComposeProblem | undefined {
  if (isAlias(servicesPair.value)) return problem(['services'], `services is an alias of &${servicesPair.value.source}, so edit the anchored mapping by hand`);
  if (isAlias(servicePair.value)) return problem(servicePath, `the service is an alias of &${servicePair.value.source}, so edit the anchored mapping by hand`);
  if (volumesPair !== undefined && isAlias(volumesPair.value)) {
    return problem([...servicePath, 'volumes'], `volumes is an alias of &${volumesPair.value.source}. Write the list in place to let the monitor edit it`);
  }
  if (volumesPair === undefined && hasVolumes) {
    return problem([...servicePath, 'volumes'], 'volumes come from a << merge key, and a local volumes key would replace them. Write the full list in the service');
  }
  return undefined;
}

/** Returns the names of all anchors that some alias in the document refers to. */
export function referencedAnchors(doc: Document.Parsed): Set<string> {
  const names = new Set<string>();
  visit(doc, {
    Alias(_, alias) {
      names.add(alias.source);
    },
  });
  return names;
}

function resolve(doc: Document.Parsed, node: unknown): Node | undefined {
  if (isAlias(node)) return node.resolve(doc) ?? undefined;
  return (node ?? undefined) as Node | undefined;
}

function problem(path: ProblemPath, message: string): ComposeProblem {
  return { path, message };
}
