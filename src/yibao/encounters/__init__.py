"""The hospital window (医院窗口): registration and admission, fee details, pre-settlement
and discharge settlement of an encounter, above :mod:`yibao.settlements`."""
