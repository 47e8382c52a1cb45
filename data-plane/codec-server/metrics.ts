/** Prometheus metrics of the codec server (default prom-client registry, served on its own /metrics). */
import { Counter } from 'prom-client';
import { getOrCreateMetric } from '../../common/metrics';

/** Requests to /decode and /encode by route and outcome (`ok`, or the error code answered). */
export const codecRequests = getOrCreateMetric(
  'nalar_codec_requests_total',
  () =>
    new Counter({
      name: 'nalar_codec_requests_total',
      help: 'Codec server requests by route (decode, encode) and outcome (ok or the NALAR_ERR_ code answered).',
      labelNames: ['route', 'outcome'],
    }),
);

/** Payloads the codec changed (a handle restored, a large value offloaded); pass-through payloads are not counted. */
export const codecPayloads = getOrCreateMetric(
  'nalar_codec_payloads_total',
  () =>
    new Counter({
      name: 'nalar_codec_payloads_total',
      help: 'Payloads the codec server decoded (handles restored from the blob store) or encoded (offloaded).',
      labelNames: ['route'],
    }),
);

/** Bytes of the payloads the codec produced (restored values for decode, handles for encode). */
export const codecBytes = getOrCreateMetric(
  'nalar_codec_bytes_total',
  () =>
    new Counter({
      name: 'nalar_codec_bytes_total',
      help: 'Bytes (data plus metadata) of the payloads the codec server restored (decode) or produced (encode).',
      labelNames: ['route'],
    }),
);
