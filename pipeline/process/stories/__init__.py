"""Incremental story clustering: which articles tell the same story.

Pure logic, no I/O. Articles arrive one at a time, in the order the pipeline processes
them; each joins the most similar *open* story when it is similar enough, or starts a new
one. A story is open while its latest article lies within ``window`` of the newest article
seen; older stories are closed and never compared again, so the work per article depends
on how many stories are open (bounded by the window), never on how many articles have
ever been stored.

How similar an article is to a story is a weighted mean of up to four comparisons, each
the average over all member pairs of a cosine between TF-IDF vectors. Summing the
members' unit vectors per story makes that average one dot product (average linkage, as
in the batch baseline, without keeping the members):

* terms: content lemmas, compared only with members in the article's language, because
  Dutch and English lemmas do not overlap;
* entities: names, language-neutral, plus the single words of multi-word names ("Reid"
  meets "Tara Reid"), so a Dutch and an English article about the same event still meet
  on "Philips", "Roy Jakobs" or "Elazig";
* numbers and links: "6.8", "4000", a shared URL. With the names, they are what tells two
  earthquakes or two rounds of layoffs apart when their words are alike.

The mean leaves out what one side lacks (terms across languages, numbers in an article
without any; links unless one is shared), and fades with the time between article and
story (``half_life``). Inverse document frequencies are learnt as articles arrive, so
common words and names weigh little.

A story that an article has just grown may now resemble another open story as much as an
article would need to join it: the two are merged into the older one (``merge_threshold``),
which repairs a story that began as two fragments. :attr:`Assignment.merged` reports the
folded story ids; the pipeline must move their articles to the surviving id. The
opposite repair: a young story keeps its members, and one whose members fall into two
groups clearly less alike than each is inside is split in two (``split_threshold``;
see :mod:`.split`), which undoes a join made on a few noisy similarities when the first
reports of two like events arrived mixed. :attr:`Assignment.moved` reports the articles
moved to the new story; the pipeline applies it after the merges. Two young stories that
a split would part again are not merged (``merge_guard``), and a young story that reached
a split check size and stayed whole gathers the small young stories around it whose
members are on average alike enough to its own (``gather_threshold``): fragments begun
before it could draw them in, reported in :attr:`Assignment.merged`. These three repairs
make the stories depend less on the order the articles came in; the fourth makes the
young stories depend on which articles there are only: when a young story grows to 2 or
3 articles or to a check size, its members and those of the young stories near it are
grouped again from scratch by average linkage (``regroup_threshold``; see
:mod:`.regroup`), reported as merges into the article's story and moves out of it.

Candidate stories come from an inverted index over each open story's strongest keys, and
story vectors are cut to their top keys, so lookup and comparison cost stay bounded. A
candidate whose similarity provably stays below the best so far (or below what a merge
needs) is not compared in full: its names, numbers and links are, and its terms only by
the product of the vectors' lengths (:func:`.similarity.similarity_from`; the same
decisions to the bit).
Everything is deterministic: the same articles in the same order give the same stories
and ids, ties go to the lower id, and the state (:meth:`StoryClusterer.dump`) is plain
JSON data from which :meth:`StoryClusterer.load` continues exactly like an uninterrupted
run.

The modules, in the order an article meets them:

- ``keys``: an article's keys per feature space (terms, names, numbers, links); the
  place for cross-lingual normalisation (numbers, names, a bilingual lexicon);
- ``similarity``: document frequencies, TF-IDF vectors, the weighted mean and its fade;
- ``index``: the inverted index over open stories by time bucket, and candidate lookup;
- ``clusterer``: :class:`StoryClusterer`, joining, merging and closing stories;
- ``split``: whether a young story is two, and the members it keeps for that;
- ``regroup``: the young stories around a story grouped again from their members;
- ``labels``: a story's label and representative article, its :class:`Story` summary;
- ``state``: the state as JSON data or as MessagePack header and per-story rows;
- ``model``: :class:`ClusterConfig` and the data the others share; ``vectors``: sparse
  vector arithmetic; ``scoring``: B-cubed scores against gold labels (``bench/``).
"""

from pipeline.process.stories.clusterer import MAX_MERGE_ROUNDS, StoryClusterer
from pipeline.process.stories.model import Assignment, ClusterConfig, Story
from pipeline.process.stories.scoring import bcubed
from pipeline.process.stories.state import STATE_VERSION, StoredState

__all__ = [
    "MAX_MERGE_ROUNDS",
    "STATE_VERSION",
    "Assignment",
    "ClusterConfig",
    "StoredState",
    "Story",
    "StoryClusterer",
    "bcubed",
]
