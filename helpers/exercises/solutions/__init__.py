"""The course's solutions to the exercises, one module per notebook (``nbNN.py``), written as a learner would.

They are shown on request (``exercises.solution("NN.K")``) and tested through their checks by
``tests/test_exercises.py``; the checks never compare against them (they use independent references).
"""
