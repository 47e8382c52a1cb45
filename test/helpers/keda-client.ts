/**
 * A KEDA-side client of the Nalar external scaler: the real @grpc/grpc-js client, built from the same .proto the
 * server loads, as KEDA's operator calls it. For the tests that drive the scaler (control-plane/keda, the
 * controller process).
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { kedaProtoLoaderOptions, kedaProtoPath } from '../../control-plane/keda/server';

/** The client class of `externalscaler.ExternalScaler`. */
export const ExternalScalerClient = (
  grpc.loadPackageDefinition(protoLoader.loadSync(kedaProtoPath, kedaProtoLoaderOptions)) as unknown as {
    externalscaler: { ExternalScaler: grpc.ServiceClientConstructor };
  }
).externalscaler.ExternalScaler;

/** A ScaledObject reference as KEDA sends it. */
export interface ScaledObjectRef {
  name: string;
  namespace: string;
  scalerMetadata: Record<string, string>;
}

type UnaryMethod = (
  request: unknown,
  metadata: grpc.Metadata,
  callback: (err: grpc.ServiceError | null, response: unknown) => void,
) => void;

/** A unary call's response, or its error. */
export function unaryCall<T>(
  client: grpc.Client,
  method: string,
  request: unknown,
  metadata = new grpc.Metadata(),
): Promise<T> {
  const fn = (client as unknown as Record<string, UnaryMethod>)[method] as UnaryMethod;
  return new Promise((resolve, reject) =>
    fn.call(client, request, metadata, (err, response) => (err ? reject(err) : resolve(response as T))),
  );
}
