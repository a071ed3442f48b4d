import os
import matplotlib
matplotlib.use('Agg')
os.environ.setdefault('IN_TEST', '1')
