"""Networks: name -> Keras class tables, zoo's layers, default-stack blocks, and `build` / `baseline`."""
