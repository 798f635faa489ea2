"""Caller verification: portal PINs, the PIN lock, identifying callers, the dual callback,
one-time secrets and security notices."""
