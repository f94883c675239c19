"""Unix sockets through the C module _socket, which the socket module
wraps: importing socket builds four IntEnums from every constant the
kernel headers define and pulls in selectors, about 3 ms of each create,
for nothing pyoci uses. The objects are _socket.socket (close-on-exec, as
socket.socket's); what socket.send_fds / recv_fds add is here."""
import _socket
import array

AF_INET = _socket.AF_INET
AF_UNIX = _socket.AF_UNIX
SOCK_DGRAM = _socket.SOCK_DGRAM
SOCK_SEQPACKET = _socket.SOCK_SEQPACKET
SOCK_STREAM = _socket.SOCK_STREAM
_INT_SIZE = array.array("i").itemsize


def socket(family, kind):
    return _socket.socket(family, kind)


def seqpacket_pair():
    return _socket.socketpair(AF_UNIX, SOCK_SEQPACKET)


def send_fds(sock, buffers, fds):
    """socket.send_fds: `buffers` with `fds` as one SCM_RIGHTS message."""
    return sock.sendmsg(buffers, [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS,
                                   array.array("i", fds))])


def recv_fds(sock, size, max_fds):
    """socket.recv_fds: (data, fds, flags, address)."""
    data, ancillary, flags, address = sock.recvmsg(
        size, _socket.CMSG_LEN(max_fds * _INT_SIZE))
    fds = array.array("i")
    for level, kind, payload in ancillary:
        if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
            fds.frombytes(payload[:len(payload) - len(payload) % _INT_SIZE])
    return data, list(fds), flags, address
