import { Router } from 'express';
import { listProviders } from '../../mail/providers.js';
import { sendData } from '../http.js';
import './providers.schema.js';

export function providersRouter(): Router {
  const router = Router();
  router.get('/providers', (_req, res) => {
    sendData(res, listProviders());
  });
  return router;
}
