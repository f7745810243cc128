"""Sensor data from the closed loop: labelled frame sets for training (``datagen``) and pictures of
what the sensors see (``render``)."""
