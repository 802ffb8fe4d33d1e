/**
 * Property tests are reproducible in CI: one fixed seed for every fast-check run that does not set
 * its own. Explore other seeds with CHUNKLINE_FC_SEED=<n> (a failure prints its seed and path).
 */
import fc from 'fast-check';

fc.configureGlobal({ seed: Number(process.env.CHUNKLINE_FC_SEED ?? 20261128) });
