"""Code-switched text and cross-lingual prompts from parallel or monolingual text.

``core`` (words, protected spans, seeded unit choice, rewriting with provenance),
``lexicon`` (bilingual lexicons, Pharaoh alignments, phrase extraction), ``stages``
(dictionary / align / translate switching), ``prompts`` (xICL, xCoT), ``metrics`` (CMI,
M-index, I-index, switch points, burstiness), ``tagged`` (reading and measuring
language-tagged text), ``mt`` (the one call into machine translation), ``synthetic``
(generated parallel data for tests and benchmarks).
"""
