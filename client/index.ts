/** Nalar's client side: a Temporal client with Nalar's data converter. */
export { connectNalarClient, type NalarClientOptions } from './connect';
