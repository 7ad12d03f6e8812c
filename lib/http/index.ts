export * from './envelope.js';
export * from './body.js';
export * from './router.js';
export * from './auth.js';
