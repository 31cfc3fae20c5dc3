/**
 * The ops console: one static page and its script (no build step), served as files. The page holds no
 * data: it asks for an ops token and calls the ops API with it, so it needs no auth of its own.
 */
import path from 'node:path';
import express, { Router } from 'express';

export const OPS_CONSOLE_DIR = path.join(__dirname, '..', 'console');

export function opsConsoleRoutes(): Router {
  const router = Router();
  router.use('/ops/console', (_req, res, next) => {
    res.setHeader(
      'Content-Security-Policy',
      "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; frame-ancestors 'none'",
    );
    res.setHeader('Cache-Control', 'no-cache');
    next();
  });
  router.get('/ops/console', (_req, res) => res.sendFile(path.join(OPS_CONSOLE_DIR, 'index.html')));
  router.use('/ops/console', express.static(OPS_CONSOLE_DIR, { index: false }));
  return router;
}
