"""Watchlist queries in Google Alerts syntax: parsing into a small expression tree.

Grammar (as Google reads it, ``OR`` binds tighter than the implicit AND)::

    query   := conj
    conj    := disj+                       all must hold
    disj    := unary (("OR" | "|") unary)*
    unary   := "-" primary | primary        exclusion
    primary := "(" conj ")" | PHRASE | TERM
             | site:DOMAIN | intitle:(TERM | PHRASE) | lang:CODE

Parsing is pure; :class:`QuerySyntaxError` carries the 1-based character position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# --- tree --------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]  # one word, or several for an "exact phrase"
    in_title: bool = False

    @property
    def text(self) -> str:
        return " ".join(self.words)


@dataclass(frozen=True)
class Site:
    domain: str


@dataclass(frozen=True)
class Lang:
    code: str


@dataclass(frozen=True)
class Not:
    node: Node


@dataclass(frozen=True)
class And:
    nodes: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    nodes: tuple[Node, ...]


Node = Term | Site | Lang | Not | And | Or


class QuerySyntaxError(ValueError):
    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} at position {position}")
        self.message = message
        self.position = position


# --- tokens ------------------------------------------------------------------------

_WORD_SPLIT = re.compile(r"\w+(?:['’]\w+)*", re.UNICODE)


@dataclass(frozen=True)
class _Tok:
    kind: str  # WORD PHRASE OR MINUS LPAREN RPAREN OP
    value: str
    pos: int  # 0-based


def _tokens(query: str) -> list[_Tok]:
    out: list[_Tok] = []
    i, n = 0, len(query)
    while i < n:
        c = query[i]
        if c.isspace():
            i += 1
        elif c == '"' or c == "“" or c == "”":
            end = _closing_quote(query, i + 1)
            if end < 0:
                raise QuerySyntaxError("unbalanced quote", i + 1)
            out.append(_Tok("PHRASE", query[i + 1 : end], i))
            i = end + 1
        elif c == "(":
            out.append(_Tok("LPAREN", c, i))
            i += 1
        elif c == ")":
            out.append(_Tok("RPAREN", c, i))
            i += 1
        elif c == "|":
            out.append(_Tok("OR", c, i))
            i += 1
        elif c == "-" and (i + 1 >= n or query[i + 1].isspace() or query[i + 1] in ")|"):
            raise QuerySyntaxError("'-' must be followed by a term or phrase", i + 1)
        elif c == "-":
            out.append(_Tok("MINUS", c, i))
            i += 1
        else:
            m = re.match(r'[^\s()"“”|]+', query[i:])
            assert m
            word = m.group(0)
            if word == "OR":
                out.append(_Tok("OR", word, i))
            elif ":" in word and word.split(":", 1)[0].lower() in ("site", "intitle", "lang"):
                op, value = word.split(":", 1)
                if not value and i + len(word) < n and query[i + len(word)] in '"“':
                    end = _closing_quote(query, i + len(word) + 1)
                    if end < 0:
                        raise QuerySyntaxError("unbalanced quote", i + len(word) + 1)
                    out.append(_Tok("OP", f'{op.lower()}:"{query[i + len(word) + 1 : end]}', i))
                    i = end + 1
                    continue
                if not value:
                    raise QuerySyntaxError(f"'{op}:' needs a value", i + 1)
                out.append(_Tok("OP", f"{op.lower()}:{value}", i))
            else:
                out.append(_Tok("WORD", word, i))
            i += len(word)
    return out


def _closing_quote(query: str, start: int) -> int:
    for j in range(start, len(query)):
        if query[j] in '"“”':
            return j
    return -1


def words_of(text: str) -> tuple[str, ...]:
    """The words of a term or phrase as the matcher compares them."""
    return tuple(_WORD_SPLIT.findall(text))


# --- parser ------------------------------------------------------------------------


MAX_DEPTH = 50  # groups nested deeper are refused (the parser recurses on each)


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.toks = _tokens(query)
        self.i = 0
        self.depth = 0

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def parse(self) -> Node:
        if not self.toks:
            raise QuerySyntaxError("empty query", 1)
        if self.toks[0].kind == "RPAREN":
            raise QuerySyntaxError("unbalanced ')'", self.toks[0].pos + 1)
        node = self.conj()
        if isinstance(node, Not) or (
            isinstance(node, And) and all(isinstance(n, Not) for n in node.nodes)
        ):
            raise QuerySyntaxError("a query needs at least one term that is not excluded", 1)
        tok = self.peek()
        if tok is not None:
            assert tok.kind == "RPAREN"
            raise QuerySyntaxError("unbalanced ')'", tok.pos + 1)
        return node

    def conj(self) -> Node:
        nodes: list[Node] = []
        while (tok := self.peek()) is not None and tok.kind != "RPAREN":
            nodes.append(self.disj())
        if not nodes:
            tok = self.peek()
            raise QuerySyntaxError("empty group", tok.pos + 1 if tok else len(self.query))
        return nodes[0] if len(nodes) == 1 else And(tuple(nodes))

    def disj(self) -> Node:
        tok = self.peek()
        if tok is not None and tok.kind == "OR":
            raise QuerySyntaxError("'OR' needs a term on its left", tok.pos + 1)
        nodes = [self.unary()]
        while (tok := self.peek()) is not None and tok.kind == "OR":
            self.take()
            nxt = self.peek()
            if nxt is None or nxt.kind in ("OR", "RPAREN"):
                raise QuerySyntaxError("'OR' needs a term on its right", tok.pos + 1)
            nodes.append(self.unary())
        return nodes[0] if len(nodes) == 1 else Or(tuple(nodes))

    def unary(self) -> Node:
        tok = self.peek()
        if tok is not None and tok.kind == "MINUS":
            self.take()
            nxt = self.peek()
            if nxt is None or nxt.kind not in ("WORD", "PHRASE", "OP", "LPAREN"):
                raise QuerySyntaxError("'-' must be followed by a term or phrase", tok.pos + 1)
            return Not(self.primary())
        return self.primary()

    def primary(self) -> Node:
        tok = self.take()
        if tok.kind == "LPAREN":
            if self.depth >= MAX_DEPTH:
                raise QuerySyntaxError(f"groups nested more than {MAX_DEPTH} deep", tok.pos + 1)
            self.depth += 1
            node = self.conj()
            self.depth -= 1
            close = self.peek()
            if close is None or close.kind != "RPAREN":
                raise QuerySyntaxError("unbalanced '('", tok.pos + 1)
            self.take()
            return node
        if tok.kind == "RPAREN":
            raise QuerySyntaxError("unbalanced ')'", tok.pos + 1)
        if tok.kind in ("WORD", "PHRASE"):
            words = words_of(tok.value)
            if not words:
                what = "empty phrase" if tok.kind == "PHRASE" else "no word"
                raise QuerySyntaxError(what, tok.pos + 1)
            return Term(words)
        if tok.kind == "OP":
            op, value = tok.value.split(":", 1)
            if op == "site":
                domain = value.lower().strip(".").removeprefix("www.")
                if not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)*", domain):
                    raise QuerySyntaxError(f"'site:{value}' is not a domain", tok.pos + 1)
                return Site(domain)
            if op == "lang":
                if not re.fullmatch(r"[a-zA-Z]{2,3}", value):
                    raise QuerySyntaxError(f"'lang:{value}' is not a language code", tok.pos + 1)
                return Lang(value.lower())
            words = words_of(value.strip('"'))
            if not words:
                raise QuerySyntaxError("'intitle:' needs a word", tok.pos + 1)
            return Term(words, in_title=True)
        raise QuerySyntaxError(f"unexpected '{tok.value}'", tok.pos + 1)


def parse_query(query: str) -> Node:
    """Parse a watchlist query or raise :class:`QuerySyntaxError`."""
    return _Parser(query).parse()


def positive_terms(node: Node) -> list[Term]:
    """The terms a match can be explained by (not the excluded ones)."""
    if isinstance(node, Term):
        return [node]
    if isinstance(node, And | Or):
        return [t for n in node.nodes for t in positive_terms(n)]
    return []
