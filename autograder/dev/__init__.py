"""Maintainer tools (instructor wing): broken variants, the lecture reproduction, the message catalog."""
