"""Lines that carry a simulated PBX console: telnet, raw TCP, a pty as a serial port, an
emulated Hayes modem with a phone book, and an RFC 2217 terminal server — each with line
conditions (baud-rate pacing, noise, carrier loss). See docs/reliability.md."""

from simulators.lines.conditions import LineConditions, LineStats, NoiseDirection, TokenBucket
from simulators.lines.modem import HayesModem, ModemEndpoint, ModemLine, serve_modem
from simulators.lines.phonebook import Outcome, PhoneBook
from simulators.lines.rfc2217 import Rfc2217Endpoint, serve_rfc2217
from simulators.lines.serial import PtyEndpoint, serve_pty, start_pty_server
from simulators.lines.telnet import TcpEndpoint, serve_tcp, serve_telnet, start_tcp_server

__all__ = [
    "HayesModem", "LineConditions", "LineStats", "ModemEndpoint", "ModemLine", "NoiseDirection",
    "Outcome", "PhoneBook", "PtyEndpoint", "Rfc2217Endpoint", "TcpEndpoint", "TokenBucket",
    "serve_modem", "serve_pty", "serve_rfc2217", "serve_tcp", "serve_telnet",
    "start_pty_server", "start_tcp_server",
]
