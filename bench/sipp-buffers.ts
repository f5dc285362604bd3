/**
 * sipp's socket buffers for load runs. One sipp socket stands for hundreds of phones: with
 * sipp's default 64 KB buffer, replies that arrive while sipp waits for a CPU (the server under
 * test shares the machine) overflow it and are dropped at the client (`ss -uamp`: the drops
 * are sipp's socket's), and sipp's retransmissions of them were counted against the server.
 * The kernel caps the size at net.core.rmem_max / wmem_max.
 */
export const SIPP_BUFFER_ARGS = ['-buff_size', String(4 * 1024 * 1024)];
