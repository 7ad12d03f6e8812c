export * from './envelope.js';
export * from './body.js';
export * from './json.js';
export * from './router.js';
export * from './auth.js';
export * from './in-flight.js';
export * from './mount-list.js';
