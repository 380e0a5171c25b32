#!/usr/bin/env node
/**
 * Entry point: `zumik [--role api|worker|all]`. Reads the environment once, starts Zumik on its
 * embedded defaults (or the configured services), and shuts down cleanly on SIGINT/SIGTERM.
 */
import { ConfigError, loadConfig } from './config';
import { createLogger } from './logger';
import { startZumik } from './zumik';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`zumik: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel, undefined, { traceIds: config.tracing.exporter !== 'none' });
  const zumik = await startZumik(config, { logger });
  console.log(`Zumik is listening on ${zumik.url}${zumik.temporalUiUrl ? ` · Temporal UI ${zumik.temporalUiUrl}` : ''}`);
  if (zumik.demo) {
    console.log('DEMO MODE: the providers are local emulators (canned answers, no real model). Try the model "demo.chat".');
  } else if (zumik.configuredProviders.length > 0) {
    console.log(`Providers configured: ${zumik.configuredProviders.join(', ')}`);
  } else {
    console.log('No provider is configured: set OPENAI_API_KEY (or ANTHROPIC_API_KEY, GEMINI_API_KEY, …), or try `npm start -- --demo`.');
  }
  if (zumik.metricsUrl) console.log(`Prometheus metrics: ${zumik.metricsUrl}`);

  let signals = 0;
  const shutdown = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    logger.info({ signal }, 'shutting down');
    zumik.stop().then(() => process.exit(0), (error: unknown) => {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  process.on('SIGHUP', shutdown);
}

main().catch((error: unknown) => {
  console.error('zumik: start-up failed:', error instanceof Error ? error.message : error);
  process.exit(1);
});
