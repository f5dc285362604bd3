/**
 * Binds a datagram socket and waits for it: resolves once bound; on an error (address in
 * use, not available) closes the socket and rejects with it. Shared by the SIP UDP transport,
 * its queue-delay probe and the media workers' leg sockets.
 */
import type dgram from 'node:dgram';

export function bindUdp(socket: dgram.Socket, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      socket.close();
      reject(err);
    };
    socket.once('error', onError);
    socket.bind({ address, port }, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}
