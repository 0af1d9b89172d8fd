export { ADMIN_PREFIX, ADMIN_ROUTES, handleAdmin } from './router.js';
export { seedStoreFromConfig } from './seed.js';
