"""The spec language: YAML read with positions (:mod:`.source`), the expression whitelist
(:mod:`.expr`, exact roots in :mod:`.surd`), the records a spec is loaded into (:mod:`.model`),
the loader (:mod:`.spec`, :mod:`.loader`, :mod:`.blocks`), the JSON Schema (:mod:`.schema`) and
the bundled specs (:mod:`.zoo`)."""
