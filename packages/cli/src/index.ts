export { routesMarkdown } from './routes.js';
export { runDev } from './dev.js';
